/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key derivation on the control path: HMAC-SHA256 and HKDF (RFC 5869)
 * from OpenSSL, the pre-shared key file, randomness.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "braid_crypto.h"

int
braid_crypto_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
		  uint8_t out[32])
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &len) == NULL ||
	    len != 32)
		return -EIO;
	return 0;
}

/* One HKDF step (RFC 5869) by OpenSSL's EVP_KDF "HKDF" in @p mode. */
static int
hkdf(int mode, const uint8_t *key, size_t key_len, const uint8_t *salt, size_t salt_len,
     const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int ret = -EIO;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)key,
						 key_len);
	if (salt_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)(uintptr_t)salt, salt_len);
	else if (info_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)(uintptr_t)info, info_len);
	*p = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1)
		ret = 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}

int
braid_crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
			  size_t ikm_len, uint8_t prk[32])
{
	/* RFC 5869 2.2: no salt is HashLen zeros (OpenSSL does the same). */
	return hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len, salt,
		    salt != NULL ? salt_len : 0, NULL, 0, prk, 32);
}

int
braid_crypto_hkdf_expand(const uint8_t prk[32], const uint8_t *info, size_t info_len,
			 uint8_t *okm, size_t okm_len)
{
	if (okm_len == 0 || okm_len > 255 * 32)
		return -EINVAL;
	return hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, 32, NULL, 0, info, info_len,
		    okm, okm_len);
}

int
braid_crypto_epoch_key(const uint8_t prk[32], uint32_t epoch, uint8_t key[BRAID_CRYPTO_KEY_LEN],
		       uint8_t salt[BRAID_CRYPTO_SALT_LEN])
{
	static const char label[] = "braid v1 key";
	uint8_t info[sizeof(label) - 1 + 4], okm[BRAID_CRYPTO_KEY_LEN + BRAID_CRYPTO_SALT_LEN];
	int ret;

	memcpy(info, label, sizeof(label) - 1);
	info[sizeof(label) - 1] = (uint8_t)(epoch >> 24);
	info[sizeof(label)] = (uint8_t)(epoch >> 16);
	info[sizeof(label) + 1] = (uint8_t)(epoch >> 8);
	info[sizeof(label) + 2] = (uint8_t)epoch;
	ret = braid_crypto_hkdf_expand(prk, info, sizeof(info), okm, sizeof(okm));
	if (ret == 0) {
		memcpy(key, okm, BRAID_CRYPTO_KEY_LEN);
		memcpy(salt, okm + BRAID_CRYPTO_KEY_LEN, BRAID_CRYPTO_SALT_LEN);
	}
	braid_crypto_wipe(okm, sizeof(okm));
	return ret;
}

int
braid_crypto_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void
braid_crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
braid_crypto_psk_read(const char *path, uint8_t psk[BRAID_CRYPTO_PSK_LEN], char *why,
		      size_t why_len)
{
	char buf[2 * BRAID_CRYPTO_PSK_LEN + 4];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s: not a regular file", path);
		ret = -EINVAL;
	} else if ((st.st_mode & 077) != 0) {
		snprintf(why, why_len,
			 "%s: mode %04o lets group or others read the key (chmod 600)",
			 path, (unsigned int)(st.st_mode & 07777));
		ret = -EPERM;
	}
	if (ret != 0) {
		close(fd);
		return ret;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len != 2 * BRAID_CRYPTO_PSK_LEN) {
		snprintf(why, why_len, "%s: want one line of %d hex digits (openssl rand -hex 32)",
			 path, 2 * BRAID_CRYPTO_PSK_LEN);
		ret = -EINVAL;
	}
	for (size_t i = 0; ret == 0 && i < BRAID_CRYPTO_PSK_LEN; i++) {
		int hi = hex_nibble(buf[2 * i]), lo = hex_nibble(buf[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(why, why_len, "%s: not hex at character %zu", path, 2 * i + 1);
			ret = -EINVAL;
			break;
		}
		psk[i] = (uint8_t)(hi << 4 | lo);
	}
	braid_crypto_wipe(buf, sizeof(buf));
	if (ret != 0)
		braid_crypto_wipe(psk, BRAID_CRYPTO_PSK_LEN);
	return ret;
}
