/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config-load.h"
#include "kv.h"

static bool has_config_file(const char *dir)
{
        char path[4096];

        snprintf(path, sizeof path, "%s/" ROLE_FILE, dir);
        if (access(path, F_OK) == 0)
                return true;
        snprintf(path, sizeof path, "%s/" CLUSTER_FILE, dir);
        return access(path, F_OK) == 0;
}

const char *boot_dir_resolve(const char *explicit_dir)
{
        struct stat st;

        if (explicit_dir)
                return explicit_dir;
        if (stat(BOOT_DIR_DEFAULT, &st) == 0 && S_ISDIR(st.st_mode))
                return BOOT_DIR_DEFAULT;
        if (has_config_file(BOOT_DIR_LEGACY))
                return BOOT_DIR_LEGACY;
        return BOOT_DIR_DEFAULT;
}

/* Reads at most KV_FILE_MAX + 1 bytes, so that the parser can say "too large" without reading a huge file.
 * *ret = NULL if the file does not exist. Other failures are reported in diags and returned. */
static int read_boot_file(const char *dir, const char *name, DiagList *diags, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t size = 0;
        struct stat st;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        *ret_size = 0;
                        return 0;
                }
                int r = -errno;
                (void)diag_add(diags, name, 0, "cannot open %s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode)) {
                (void)diag_add(diags, name, 0, "%s is not a regular file", path);
                return -EISDIR;
        }

        buf = malloc(KV_FILE_MAX + 2);
        if (!buf)
                return -ENOMEM;
        while (size < KV_FILE_MAX + 1) {
                ssize_t n = read(fd, buf + size, KV_FILE_MAX + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        (void)diag_add(diags, name, 0, "cannot read %s: %s", path, strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        buf[size] = 0;

        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int config_load(const char *boot_dir, DiagList *diags, Config **ret)
{
        _cleanup_free_ char *role = NULL;
        _cleanup_erase_free_ char *cluster = NULL;
        size_t role_size = 0, cluster_size = 0;
        int r, q;

        r = read_boot_file(boot_dir, ROLE_FILE, diags, &role, &role_size);
        q = read_boot_file(boot_dir, CLUSTER_FILE, diags, &cluster, &cluster_size);
        if (r < 0)
                return r;
        if (q < 0)
                return q;

        r = config_parse(role, role_size, cluster, cluster_size, diags, ret);
        if (cluster)
                erase(cluster, cluster_size);
        return r;
}

int cluster_file_exposed(const char *boot_dir, mode_t *ret_mode)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;
        mode_t file;

        if (asprintf(&path, "%s/%s", boot_dir, CLUSTER_FILE) < 0)
                return -ENOMEM;
        if (stat(path, &st) < 0)
                return -errno;
        *ret_mode = st.st_mode & 07777;
        if (!(st.st_mode & (S_IRGRP | S_IROTH)))
                return 0;
        /* The directory counts too: through a closed one, nobody but root reaches the file. */
        file = st.st_mode;
        if (stat(boot_dir, &st) < 0)
                return -errno;
        return ((file & S_IROTH) && (st.st_mode & S_IXOTH)) || ((file & S_IRGRP) && (st.st_mode & S_IXGRP));
}
