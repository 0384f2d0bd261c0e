#include "tls/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tls/openssl_error.h"

namespace weft::tls {
namespace {

BioPtr memoryBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

template <class T, class Decode>
Result<T> decodeWhole(const std::string& der, Decode decode, std::string_view what) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = cursor + der.size();
  T object(decode(nullptr, &cursor, static_cast<long>(der.size())));
  if (!object) return makeError("malformed {} DER: {}", what, drainOpensslErrors());
  if (cursor != end) return makeError("{} DER has {} trailing bytes", what, end - cursor);
  return object;
}

}  // namespace

Result<std::vector<PemBlock>> readPemBlocks(std::string_view text) {
  if (text.size() > (1u << 24)) return makeError("PEM input is larger than 16 MiB");
  auto bio = memoryBio(text);
  std::vector<PemBlock> blocks;
  clearOpensslErrors();
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      unsigned long err = ERR_peek_last_error();
      bool cleanEnd = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
      if (cleanEnd && !blocks.empty()) {
        clearOpensslErrors();
        break;
      }
      if (cleanEnd) {
        clearOpensslErrors();
        return makeError("no PEM data found (expected -----BEGIN ...----- lines)");
      }
      return makeError("PEM block {}: {}", blocks.size() + 1, drainOpensslErrors());
    }
    blocks.push_back(PemBlock{name, std::string(reinterpret_cast<char*>(data), static_cast<size_t>(len))});
    bool encrypted = header != nullptr && std::string_view(header).find("ENCRYPTED") != std::string_view::npos;
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (encrypted) return makeError("PEM block {} is encrypted; Weft reads only unencrypted keys", blocks.size());
  }
  return blocks;
}

Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem) {
  auto blocks = readPemBlocks(pem);
  if (!blocks) return blocks.error();
  std::vector<X509Ptr> certs;
  for (size_t i = 0; i < blocks->size(); ++i) {
    const auto& block = (*blocks)[i];
    if (block.type != "CERTIFICATE") {
      return makeError("PEM block {} is a {}, expected a CERTIFICATE", i + 1, block.type);
    }
    auto cert = decodeWhole<X509Ptr>(block.der, d2i_X509, "certificate");
    if (!cert) return cert.error().wrap(fmt::format("certificate {}", i + 1));
    certs.push_back(std::move(cert.value()));
  }
  return certs;
}

Result<EvpPkeyPtr> parsePrivateKey(std::string_view pem) {
  auto blocks = readPemBlocks(pem);
  if (!blocks) return blocks.error();
  std::vector<const PemBlock*> keys;
  for (const auto& block : *blocks) {
    if (block.type == "EC PARAMETERS") continue;  // openssl ecparam -genkey writes it first
    if (block.type == "ENCRYPTED PRIVATE KEY") return makeError("the private key is encrypted; Weft reads only unencrypted keys");
    if (block.type != "PRIVATE KEY" && block.type != "RSA PRIVATE KEY" && block.type != "EC PRIVATE KEY") {
      return makeError("PEM block is a {}, expected a PRIVATE KEY", block.type);
    }
    keys.push_back(&block);
  }
  if (keys.size() != 1) return makeError("expected exactly one private key, found {}", keys.size());
  return decodeWhole<EvpPkeyPtr>(keys[0]->der, d2i_AutoPrivateKey, "private key");
}

Result<X509ReqPtr> parseCsr(std::string_view pemOrDer) {
  if (pemOrDer.empty()) return makeError("the certificate signing request is empty");
  bool looksLikeDer = static_cast<unsigned char>(pemOrDer[0]) == 0x30;
  if (looksLikeDer) return decodeWhole<X509ReqPtr>(std::string(pemOrDer), d2i_X509_REQ, "certificate signing request");
  auto blocks = readPemBlocks(pemOrDer);
  if (!blocks) return blocks.error();
  if (blocks->size() != 1) return makeError("expected exactly one CERTIFICATE REQUEST block, found {} blocks", blocks->size());
  const auto& block = blocks->front();
  if (block.type != "CERTIFICATE REQUEST" && block.type != "NEW CERTIFICATE REQUEST") {
    return makeError("PEM block is a {}, expected a CERTIFICATE REQUEST", block.type);
  }
  return decodeWhole<X509ReqPtr>(block.der, d2i_X509_REQ, "certificate signing request");
}

std::string toPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bioToString(bio.get());
}

std::string toPem(X509_REQ* csr) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), csr);
  return bioToString(bio.get());
}

std::string privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bioToString(bio.get());
}

std::string toDer(X509* cert) {
  unsigned char* out = nullptr;
  int len = i2d_X509(cert, &out);
  if (len <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

}  // namespace weft::tls
