#ifndef NETOBS_COPENSSL_SHIM_H
#define NETOBS_COPENSSL_SHIM_H
/* OpenSSL's libssl and libcrypto for Swift. Many OpenSSL "functions" are macros over *_ctrl
 * calls or variadic functions, which Swift cannot import: each one used is wrapped here in a
 * static inline function. No logic lives here. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* --- SSL_CTX / SSL macros ------------------------------------------------------------ */

static inline int netobs_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version)
{
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int netobs_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version)
{
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long netobs_SSL_CTX_set_mode(SSL_CTX *ctx, long mode)
{
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long netobs_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode)
{
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

/* Adds one intermediate of the own chain; the context takes a reference of its own. */
static inline int netobs_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *cert)
{
    return (int)SSL_CTX_add1_chain_cert(ctx, cert);
}

static inline int netobs_SSL_CTX_get_ex_new_index(void)
{
    return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* SNI. Only for DNS names: RFC 6066 forbids IP literals here. */
static inline int netobs_SSL_set_tlsext_host_name(SSL *ssl, const char *name)
{
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/* --- BIO macros ----------------------------------------------------------------------- */

/* An empty memory BIO reports "retry" instead of EOF: more ciphertext may come later. */
static inline void netobs_BIO_set_mem_eof_return(BIO *bio, int value)
{
    BIO_set_mem_eof_return(bio, value);
}

static inline long netobs_BIO_get_mem_data(BIO *bio, char **data)
{
    return BIO_get_mem_data(bio, data);
}

/* --- libcrypto ------------------------------------------------------------------------ */

static inline void netobs_OPENSSL_free(void *ptr)
{
    OPENSSL_free(ptr);
}

/* EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen. */
static inline EVP_PKEY *netobs_generate_ec_p256(void)
{
    return EVP_EC_gen("P-256");
}

/* One X.509v3 extension in OpenSSL's config syntax ("critical,CA:TRUE", "DNS:a,IP:1.2.3.4"),
 * with issuer and subject set so that key identifiers can be derived. */
static inline int netobs_X509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* XN_FLAG_RFC2253 is an expression of several macros, which Swift does not import. */
static inline unsigned long netobs_XN_FLAG_RFC2253(void)
{
    return XN_FLAG_RFC2253;
}

/* --- subjectAltName access (STACK_OF macros) ------------------------------------------ */

static inline int netobs_GENERAL_NAMES_count(const GENERAL_NAMES *names)
{
    return sk_GENERAL_NAME_num(names);
}

/* The i-th name's type (GEN_DNS, GEN_IPADD, GEN_URI, ...) and raw bytes; -1 when absent. */
static inline int netobs_GENERAL_NAMES_get(const GENERAL_NAMES *names, int i,
                                           const unsigned char **data, int *length)
{
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
    if (!name)
        return -1;
    const ASN1_STRING *value = NULL;
    switch (name->type) {
    case GEN_DNS: value = name->d.dNSName; break;
    case GEN_URI: value = name->d.uniformResourceIdentifier; break;
    case GEN_IPADD: value = name->d.iPAddress; break;
    case GEN_EMAIL: value = name->d.rfc822Name; break;
    default: break;
    }
    *data = value ? ASN1_STRING_get0_data(value) : NULL;
    *length = value ? ASN1_STRING_length(value) : 0;
    return name->type;
}

static inline void netobs_GENERAL_NAMES_free(GENERAL_NAMES *names)
{
    GENERAL_NAMES_free(names);
}

#endif
