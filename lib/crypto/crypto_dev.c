/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The AES-256-GCM device: a probed hardware device if there is one,
 * else the software PMD Debian's DPDK ships for this CPU (ipsec_mb's
 * crypto_aesni_gcm with AES-NI, crypto_openssl otherwise).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cpuflags.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>

#include "crypto_priv.h"

#define DEV_DESCRIPTORS 2048
#define DEV_SESSIONS 64

static bool
does_gcm256(uint8_t id)
{
	const struct rte_cryptodev_symmetric_capability *cap;
	struct rte_cryptodev_sym_capability_idx idx = {
		.type = RTE_CRYPTO_SYM_XFORM_AEAD,
		.algo.aead = RTE_CRYPTO_AEAD_AES_GCM,
	};

	cap = rte_cryptodev_sym_capability_get(id, &idx);
	return cap != NULL &&
	       rte_cryptodev_sym_capability_check_aead(cap, BRAID_CRYPTO_KEY_LEN,
						       BRAID_CRYPTO_TAG_LEN,
						       BRAID_CRYPTO_AAD_LEN,
						       BRAID_CRYPTO_IV_LEN) == 0;
}

/* A vdev of driver @p drv, named after it and this process's devices. */
static int
make_vdev(const char *drv, char *name, size_t len)
{
	int ret;

	snprintf(name, len, "%s_braid%u", drv, rte_cryptodev_count());
	ret = rte_vdev_init(name, "max_nb_queue_pairs=4");
	return ret;
}

static int
pick(const char *want, struct braid_crypto_dev *dev, char *err, size_t err_len)
{
	char vname[64];
	int id;

	if (strcmp(want, "auto") != 0) {
		id = rte_cryptodev_get_dev_id(want);
		if (id < 0) {
			if (make_vdev(want, vname, sizeof(vname)) != 0) {
				snprintf(err, err_len,
					 "crypto device %s: neither a probed device nor a vdev driver",
					 want);
				return -ENODEV;
			}
			dev->vdev = true;
			id = rte_cryptodev_get_dev_id(vname);
		}
		if (id < 0 || !does_gcm256((uint8_t)id)) {
			if (dev->vdev)
				rte_vdev_uninit(vname);
			dev->vdev = false;
			snprintf(err, err_len, "crypto device %s: no AES-256-GCM", want);
			return -ENOTSUP;
		}
		return id;
	}
	/* A hardware accelerator first. */
	for (uint8_t i = 0; i < rte_cryptodev_count(); i++) {
		struct rte_cryptodev_info info;

		rte_cryptodev_info_get(i, &info);
		if ((info.feature_flags & RTE_CRYPTODEV_FF_HW_ACCELERATED) && does_gcm256(i))
			return i;
	}
	if (rte_cpu_get_flag_enabled(RTE_CPUFLAG_AES) == 1 &&
	    make_vdev("crypto_aesni_gcm", vname, sizeof(vname)) == 0) {
		id = rte_cryptodev_get_dev_id(vname);
		if (id >= 0 && does_gcm256((uint8_t)id)) {
			dev->vdev = true;
			return id;
		}
		rte_vdev_uninit(vname);
	}
	if (make_vdev("crypto_openssl", vname, sizeof(vname)) == 0) {
		id = rte_cryptodev_get_dev_id(vname);
		if (id >= 0 && does_gcm256((uint8_t)id)) {
			dev->vdev = true;
			return id;
		}
		rte_vdev_uninit(vname);
	}
	snprintf(err, err_len, "crypto: no AES-256-GCM device (no hardware device, "
		 "and neither crypto_aesni_gcm nor crypto_openssl could be created)");
	return -ENODEV;
}

int
braid_crypto_dev_open(const char *want, int socket, uint16_t n_qp,
		      struct braid_crypto_dev *dev, char *err, size_t err_len)
{
	struct rte_cryptodev_config dc = { .nb_queue_pairs = n_qp };
	struct rte_cryptodev_qp_conf qc = { .nb_descriptors = DEV_DESCRIPTORS };
	struct rte_cryptodev_info info;
	char pool[RTE_MEMPOOL_NAMESIZE];
	int id, ret;

	memset(dev, 0, sizeof(*dev));
	id = pick(want != NULL ? want : "auto", dev, err, err_len);
	if (id < 0)
		return id;
	dev->dev_id = (uint8_t)id;
	dev->n_qp = n_qp;
	snprintf(dev->name, sizeof(dev->name), "%s", rte_cryptodev_name_get(dev->dev_id));
	rte_cryptodev_info_get(dev->dev_id, &info);
	snprintf(dev->driver, sizeof(dev->driver), "%s", info.driver_name);
	dev->in_place_sgl = (info.feature_flags & RTE_CRYPTODEV_FF_IN_PLACE_SGL) != 0;
	if (info.max_nb_queue_pairs < n_qp) {
		snprintf(err, err_len, "crypto device %s: %u queue pairs, %u needed",
			 dev->name, info.max_nb_queue_pairs, n_qp);
		ret = -ENOTSUP;
		goto fail;
	}
	dc.socket_id = socket == SOCKET_ID_ANY ? (int)rte_socket_id() : socket;
	snprintf(pool, sizeof(pool), "bcs_%u", dev->dev_id);
	dev->sess_pool = rte_cryptodev_sym_session_pool_create(pool, DEV_SESSIONS,
			rte_cryptodev_sym_get_private_session_size(dev->dev_id), 0, 0,
			dc.socket_id);
	if (dev->sess_pool == NULL) {
		snprintf(err, err_len, "crypto device %s: session pool: %s", dev->name,
			 rte_strerror(rte_errno));
		ret = -ENOMEM;
		goto fail;
	}
	qc.mp_session = dev->sess_pool;
	ret = rte_cryptodev_configure(dev->dev_id, &dc);
	for (uint16_t q = 0; ret == 0 && q < n_qp; q++)
		ret = rte_cryptodev_queue_pair_setup(dev->dev_id, q, &qc, dc.socket_id);
	if (ret == 0)
		ret = rte_cryptodev_start(dev->dev_id);
	if (ret != 0) {
		snprintf(err, err_len, "crypto device %s: set-up failed (%d)", dev->name, ret);
		goto fail;
	}
	return 0;
fail:
	braid_crypto_dev_close(dev);
	return ret < 0 ? ret : -EIO;
}

void
braid_crypto_dev_close(struct braid_crypto_dev *dev)
{
	if (dev == NULL || dev->name[0] == '\0')
		return;
	rte_cryptodev_stop(dev->dev_id);
	rte_cryptodev_close(dev->dev_id);
	if (dev->vdev)
		rte_vdev_uninit(dev->name);
	rte_mempool_free(dev->sess_pool);
	memset(dev, 0, sizeof(*dev));
}

RTE_LOG_REGISTER(braid_crypto_logtype, braid.crypto, INFO);

void *
crypto_session(const struct braid_crypto_dev *dev, const uint8_t prk[32], uint32_t epoch,
	       enum rte_crypto_aead_operation dir, uint8_t salt[BRAID_CRYPTO_SALT_LEN])
{
	uint8_t key[BRAID_CRYPTO_KEY_LEN];
	struct rte_crypto_sym_xform x = {
		.type = RTE_CRYPTO_SYM_XFORM_AEAD,
		.aead = {
			.op = dir,
			.algo = RTE_CRYPTO_AEAD_AES_GCM,
			.key = { .data = key, .length = BRAID_CRYPTO_KEY_LEN },
			.iv = { .offset = CRYPTO_IV_OFFSET, .length = BRAID_CRYPTO_IV_LEN },
			.digest_length = BRAID_CRYPTO_TAG_LEN,
			.aad_length = BRAID_CRYPTO_AAD_LEN,
		},
	};
	void *sess = NULL;

	if (braid_crypto_epoch_key(prk, epoch, key, salt) == 0)
		sess = rte_cryptodev_sym_session_create(dev->dev_id, &x, dev->sess_pool);
	braid_crypto_wipe(key, sizeof(key));
	return sess;
}

struct rte_mempool *
crypto_op_pool(const char *name, int socket)
{
	char n[RTE_MEMPOOL_NAMESIZE];

	snprintf(n, sizeof(n), "cop_%s", name);
	return rte_crypto_op_pool_create(n, RTE_CRYPTO_OP_TYPE_SYMMETRIC, CRYPTO_OPS, 0,
					 sizeof(struct crypto_op_priv), socket);
}
