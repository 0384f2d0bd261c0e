#include "cli/ca_commands.h"

#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "base/duration.h"
#include "base/file_io.h"
#include "base/time_format.h"
#include "ca/ca_bundle.h"
#include "ca/cert_report.h"
#include "ca/csr.h"
#include "ca/signing_ca.h"
#include "ca/workload_issuer.h"
#include "cli/cli.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::cli {
namespace {

namespace fs = std::filesystem;

struct CaCertFlags {
  std::string org;
  std::string cn;
  std::string out;
  int days = 3650;
  std::string keyType = "rsa";
  bool force = false;
};

struct IntermediateFlags : CaCertFlags {
  std::string name;
  std::string rootDir;
};

struct SignFlags {
  std::string caDir;
  std::string trustDomain;
  std::string ns;
  std::string serviceAccount;
  std::string ttl = "24h";
  std::string csr;
  std::string keyType = "ec";
  std::string outCert;
  std::string outKey;
};

int fail(const Error& error) {
  fmt::print(stderr, "Error: {}\n", error.message);
  return kExitFailure;
}

void addCaCertFlags(CLI::App* cmd, CaCertFlags& flags) {
  cmd->add_option("--org", flags.org, "Organization (O) of the subject")->required();
  cmd->add_option("--cn", flags.cn, "Common name (CN) of the subject")->required();
  cmd->add_option("--out", flags.out, "Directory to write into")->required();
  cmd->add_option("--days", flags.days, "Validity in days")->capture_default_str();
  cmd->add_option("--key-type", flags.keyType, "rsa (4096 bits) or ec (P-256)")->capture_default_str();
  cmd->add_flag("--force", flags.force, "Overwrite an existing CA key");
}

Result<ca::CaCertOptions> caOptions(const CaCertFlags& flags) {
  if (flags.org.empty()) return makeError("--org must not be empty");
  if (flags.cn.empty()) return makeError("--cn must not be empty");
  auto key = ca::parseKeyType(flags.keyType, 4096);
  if (!key) return key.error();
  return ca::CaCertOptions{.org = flags.org, .cn = flags.cn, .days = flags.days, .key = *key};
}

// A CA key is the one thing that cannot be made again: never replace one by accident.
Status refuseToClobber(const fs::path& key, bool force) {
  if (!force && fs::exists(key)) return makeError("{} already exists; pass --force to replace this CA", key.string());
  return {};
}

std::string summary(X509* cert, EVP_PKEY* key) {
  return fmt::format("{}, {}, valid until {}", tls::distinguishedName(X509_get_subject_name(cert)), tls::describeKey(key),
                     formatDate(tls::notAfter(cert)));
}

void printWritten(const std::vector<FileToWrite>& files) {
  for (const auto& file : files) fmt::print("wrote {}\n", file.path.string());
}

int runRoot(const CaCertFlags& flags) {
  auto options = caOptions(flags);
  if (!options) return fail(options.error());
  fs::path out(flags.out);
  if (auto ok = refuseToClobber(out / "root-key.pem", flags.force); !ok) return fail(ok.error());
  auto root = ca::makeRootCa(*options, systemClock());
  if (!root) return fail(root.error());
  std::vector<FileToWrite> files{{out / "root-cert.pem", tls::toPem(root->cert.get()), 0644},
                                 {out / "root-key.pem", tls::privateKeyToPem(root->key.get()), 0600}};
  if (auto written = writeFilesAtomically(files); !written) return fail(written.error());
  fmt::print("Root CA: {}\n", summary(root->cert.get(), root->key.get()));
  printWritten(files);
  return kExitOk;
}

Result<ca::CaCertAndKey> loadRoot(const fs::path& dir) {
  auto certPem = readFile(dir / "root-cert.pem");
  if (!certPem) return certPem.error();
  auto keyPem = readFile(dir / "root-key.pem");
  if (!keyPem) return keyPem.error();
  auto certs = tls::parseCertificates(*certPem);
  if (!certs) return certs.error().wrap((dir / "root-cert.pem").string());
  if (certs->size() != 1) return makeError("{}: expected one certificate, found {}", (dir / "root-cert.pem").string(), certs->size());
  auto key = tls::parsePrivateKey(*keyPem);
  if (!key) return key.error().wrap((dir / "root-key.pem").string());
  return ca::CaCertAndKey{std::move(certs->front()), std::move(key.value())};
}

int runIntermediate(const IntermediateFlags& flags) {
  auto options = caOptions(flags);
  if (!options) return fail(options.error());
  // The name becomes a directory and the certificate's locality (L=).
  if (flags.name.empty() || flags.name == "." || flags.name == ".." || flags.name.find('/') != std::string::npos) {
    return fail(makeError("intermediate name \"{}\" must be a plain name (no '/')", flags.name));
  }
  auto root = loadRoot(flags.rootDir);
  if (!root) return fail(root.error());
  fs::path dir = fs::path(flags.out) / flags.name;
  if (auto ok = refuseToClobber(dir / "ca-key.pem", flags.force); !ok) return fail(ok.error());
  auto intermediate = ca::makeIntermediateCa(*options, flags.name, root->cert.get(), root->key.get(), systemClock());
  if (!intermediate) return fail(intermediate.error().wrap(flags.rootDir));
  std::string rootPem = tls::toPem(root->cert.get());
  std::string caCertPem = tls::toPem(intermediate->cert.get());
  std::vector<FileToWrite> files{{dir / "ca-cert.pem", caCertPem, 0644},
                                 {dir / "ca-key.pem", tls::privateKeyToPem(intermediate->key.get()), 0600},
                                 {dir / "cert-chain.pem", caCertPem + rootPem, 0644},
                                 {dir / "root-cert.pem", rootPem, 0644}};
  if (auto written = writeFilesAtomically(files); !written) return fail(written.error());
  fmt::print("Intermediate CA: {}\n", summary(intermediate->cert.get(), intermediate->key.get()));
  printWritten(files);
  return kExitOk;
}

int runSign(const SignFlags& flags) {
  auto identity = tls::SpiffeId::make(flags.trustDomain, flags.ns, flags.serviceAccount);
  if (!identity) return fail(identity.error());
  auto ttl = parseDuration(flags.ttl, {.allowDays = true});
  if (!ttl) return fail(ttl.error().wrap("--ttl"));
  if (!flags.csr.empty() && !flags.outKey.empty()) {
    return fail(makeError("--out-key cannot be used with --csr: the key belongs to whoever made the CSR"));
  }
  if (flags.csr.empty() && flags.outKey.empty()) return fail(makeError("--out-key is required unless --csr is given"));

  auto bundle = ca::loadCaDirectory(flags.caDir, systemClock());
  if (!bundle) return fail(bundle.error());
  ca::WorkloadIssuer issuer(std::make_shared<ca::CaBundle>(std::move(bundle.value())), systemClock());

  std::string csrPem;
  tls::EvpPkeyPtr key;
  if (!flags.csr.empty()) {
    auto csr = readFile(flags.csr);
    if (!csr) return fail(csr.error());
    csrPem = std::move(csr.value());
  } else {
    auto spec = ca::parseKeyType(flags.keyType, 2048);
    if (!spec) return fail(spec.error());
    auto generated = ca::generateKey(*spec);
    if (!generated) return fail(generated.error());
    key = std::move(generated.value());
    auto csr = ca::makeCsr(key.get(), *identity);
    if (!csr) return fail(csr.error());
    csrPem = tls::toPem(csr->get());
  }
  auto issued = issuer.issue({.csr = csrPem, .identity = *identity,
                              .ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl)});
  if (!issued) return fail(issued.error().wrap(flags.csr.empty() ? "sign" : flags.csr));
  std::vector<FileToWrite> files{{flags.outCert, issued->certChainPem, 0644}};
  if (key) files.push_back({flags.outKey, tls::privateKeyToPem(key.get()), 0600});
  if (auto written = writeFilesAtomically(files); !written) return fail(written.error());
  fmt::print("Workload certificate for {} (valid until {})\n", identity->uri(), formatRfc3339(tls::notAfter(issued->leaf.get())));
  printWritten(files);
  return kExitOk;
}

int runInspect(const std::string& file) {
  auto pem = readFile(file);
  if (!pem) return fail(pem.error());
  auto report = ca::describeCertificates(*pem, std::chrono::system_clock::now());
  if (!report) return fail(report.error().wrap(file));
  fmt::print("{}", *report);
  return kExitOk;
}

}  // namespace

void addCaCommands(CLI::App& app, int& exitCode) {
  auto* ca = app.add_subcommand("ca", "Certificate authority tooling (Istio's tools/certs, offline signing)");
  ca->require_subcommand(1);

  auto rootFlags = std::make_shared<CaCertFlags>();
  auto* root = ca->add_subcommand("root", "Make a self-signed root CA: root-cert.pem, root-key.pem");
  addCaCertFlags(root, *rootFlags);
  root->callback([rootFlags, &exitCode] { exitCode = runRoot(*rootFlags); });

  auto interFlags = std::make_shared<IntermediateFlags>();
  auto* inter = ca->add_subcommand("intermediate", "Make an intermediate CA for a cluster, signed by a root");
  inter->add_option("name", interFlags->name, "Cluster name; files go to OUT/NAME/")->required();
  addCaCertFlags(inter, *interFlags);
  inter->add_option("--root", interFlags->rootDir, "Directory holding root-cert.pem and root-key.pem")->required();
  inter->callback([interFlags, &exitCode] { exitCode = runIntermediate(*interFlags); });

  auto signFlags = std::make_shared<SignFlags>();
  auto* sign = ca->add_subcommand("sign", "Issue a workload certificate offline (VMs, debugging)");
  sign->add_option("--ca-dir", signFlags->caDir, "Plug-in CA directory")->required();
  sign->add_option("--trust-domain", signFlags->trustDomain, "Trust domain, e.g. cluster.local")->required();
  sign->add_option("--namespace", signFlags->ns, "Namespace of the identity")->required();
  sign->add_option("--service-account", signFlags->serviceAccount, "Service account of the identity")->required();
  sign->add_option("--ttl", signFlags->ttl, "Lifetime (at most 90 days)")->capture_default_str();
  sign->add_option("--csr", signFlags->csr, "Sign this CSR instead of making a key");
  sign->add_option("--key-type", signFlags->keyType, "Key to make: ec (P-256) or rsa (2048 bits)")->capture_default_str();
  sign->add_option("--out-cert", signFlags->outCert, "Certificate chain file: leaf, intermediate, root")->required();
  sign->add_option("--out-key", signFlags->outKey, "Private key file (written 0600)");
  sign->callback([signFlags, &exitCode] { exitCode = runSign(*signFlags); });

  auto inspectFile = std::make_shared<std::string>();
  auto* inspect = ca->add_subcommand("inspect", "Show the SPIFFE ID, issuer, validity and chain of a PEM file");
  inspect->add_option("file", *inspectFile, "PEM file")->required();
  inspect->callback([inspectFile, &exitCode] { exitCode = runInspect(*inspectFile); });
}

}  // namespace weft::cli
