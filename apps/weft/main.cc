// weft: the command-line interface. All behaviour lives in src/cli.
#include "cli/cli.h"

int main(int argc, char** argv) { return weft::cli::runCli(argc, argv); }
