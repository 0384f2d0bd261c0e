// Boost.JSON compiled into Weft once, header-only style, so no separate Boost library
// package is needed.
#include <boost/json/src.hpp>
