/* Pinned peer identities (TOFU). Contract in ml/pins.h. */
#define _DEFAULT_SOURCE /* flock */
#include "ml/pins.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <sodium.h>

#define KEY_B64_LEN 44
#define VERIFIED_MARK "\tverified"

int ml_pins_default_path(char *out, size_t cap) {
  const char *xdg = getenv("XDG_DATA_HOME");
  int n;
  if (xdg && xdg[0] == '/') {
    n = snprintf(out, cap, "%s/mentorlink/known_peers", xdg);
  } else {
    const char *home = getenv("HOME");
    if (!home || home[0] == '\0')
      return ML_ERR_NOT_FOUND;
    n = snprintf(out, cap, "%s/.local/share/mentorlink/known_peers", home);
  }
  if (n < 0 || (size_t)n >= cap)
    return ML_ERR_BUFFER;
  return ML_OK;
}

static bool valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > ML_PINS_MAX_NAME || !g_utf8_validate(name, (gssize)n, NULL))
    return false;
  for (const char *p = name; *p; p += g_utf8_skip[*(const guchar *)p])
    if (g_unichar_iscntrl(g_utf8_get_char(p)))
      return false;
  return true;
}

/* Reads the whole file at path into *out (NUL-terminated; empty if the file
 * does not exist), checking owner and mode on the opened file. */
static int read_file(const char *path, char **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      *out = g_strdup("");
      return ML_OK;
    }
    return ML_ERR_IO;
  }
  struct stat st;
  int err = ML_OK;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    err = ML_ERR_IO;
    goto out;
  }
  if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
    err = ML_ERR_PERMISSION;
    goto out;
  }
  if (st.st_size > ML_PINS_MAX_FILE) {
    err = ML_ERR_TOO_BIG;
    goto out;
  }
  char *buf = g_malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  if (memchr(buf, '\0', got) != NULL) {
    g_free(buf);
    err = ML_ERR_PROTOCOL;
    goto out;
  }
  *out = buf;
  *out_len = got;
out:
  close(fd);
  return err;
}

/* Parses one non-comment line "<b64 key> SP <name> [TAB verified]". */
static bool parse_line(const char *line, uint8_t key[ML_IDENTITY_PUBLIC_LEN],
                       char name[ML_PINS_MAX_NAME + 1], bool *verified) {
  size_t n = 0;
  if (strlen(line) < KEY_B64_LEN + 2 || line[KEY_B64_LEN] != ' ')
    return false;
  if (sodium_base642bin(key, ML_IDENTITY_PUBLIC_LEN, line, KEY_B64_LEN, NULL, &n, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      n != ML_IDENTITY_PUBLIC_LEN)
    return false;
  const char *start = line + KEY_B64_LEN + 1;
  const char *tab = strchr(start, '\t');
  size_t len = tab ? (size_t)(tab - start) : strlen(start);
  /* The mark, exactly, or nothing (a name never holds a TAB). */
  if (len > ML_PINS_MAX_NAME || (tab && strcmp(tab, VERIFIED_MARK) != 0))
    return false;
  memcpy(name, start, len);
  name[len] = '\0';
  *verified = tab != NULL;
  return valid_name(name);
}

static bool write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    len -= (size_t)w;
  }
  return true;
}

static int write_atomically(const char *path, const char *text, size_t len) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return ML_ERR_IO;
  bool ok = fchmod(fd, 0600) == 0 && write_all(fd, text, len) && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return ML_ERR_IO;
  }
  g_autofree char *dir = g_path_get_dirname(path);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  return ML_OK;
}

typedef enum update_mode {
  UPDATE_CHECK,    /* key appended only when name has no line */
  UPDATE_REPLACE,  /* any line of name dropped, key appended */
  UPDATE_VERIFIED, /* the same, the new line marked verified */
} update_mode;

/* The locked read-modify-write every entry point shares. */
static int update(const char *path, const char *name, const uint8_t key[ML_IDENTITY_PUBLIC_LEN],
                  update_mode mode, ml_pin_status *status, uint8_t pinned[ML_IDENTITY_PUBLIC_LEN],
                  bool *verified) {
  if (!valid_name(name))
    return ML_ERR_INVALID;
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0700) != 0)
    return ML_ERR_IO;
  g_autofree char *lock_path = g_strdup_printf("%s.lock", path);
  int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock < 0)
    return ML_ERR_IO;
  int err;
  while ((err = flock(lock, LOCK_EX)) != 0 && errno == EINTR)
    ;
  if (err != 0) {
    close(lock);
    return ML_ERR_IO;
  }
  char *text = NULL;
  size_t len = 0;
  err = read_file(path, &text, &len);
  if (err)
    goto out;
  GString *kept = g_string_new(NULL);
  bool found = false, line_verified = false, pin_verified = false;
  ml_pin_status st = ML_PIN_NEW;
  char **lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    if ((*l)[0] == '\0' && l[1] == NULL)
      break; /* the text after the last newline */
    if ((*l)[0] == '#' || (*l)[0] == '\0') {
      g_string_append_printf(kept, "%s\n", *l);
      continue;
    }
    uint8_t k[ML_IDENTITY_PUBLIC_LEN];
    char n[ML_PINS_MAX_NAME + 1];
    if (!parse_line(*l, k, n, &line_verified)) {
      err = ML_ERR_PROTOCOL;
      break;
    }
    if (strcmp(n, name) == 0) {
      if (mode != UPDATE_CHECK)
        continue;
      found = true;
      st = sodium_memcmp(k, key, ML_IDENTITY_PUBLIC_LEN) == 0 ? ML_PIN_MATCH : ML_PIN_CHANGED;
      pin_verified = st == ML_PIN_MATCH && line_verified;
      if (st == ML_PIN_CHANGED && pinned)
        memcpy(pinned, k, ML_IDENTITY_PUBLIC_LEN);
    }
    g_string_append_printf(kept, "%s\n", *l);
  }
  g_strfreev(lines);
  if (!err && !found) {
    char b64[KEY_B64_LEN + 1];
    sodium_bin2base64(b64, sizeof b64, key, ML_IDENTITY_PUBLIC_LEN, sodium_base64_VARIANT_ORIGINAL);
    if (kept->len == 0)
      g_string_append(kept, "# mentorlink known peers: <identity key (base64)> <display name>"
                            "[<TAB>verified]\n");
    g_string_append_printf(kept, "%s %s%s\n", b64, name,
                           mode == UPDATE_VERIFIED ? VERIFIED_MARK : "");
    err = kept->len > ML_PINS_MAX_FILE ? ML_ERR_TOO_BIG
                                       : write_atomically(path, kept->str, kept->len);
  }
  g_string_free(kept, TRUE);
  if (!err && status)
    *status = st;
  if (!err && verified)
    *verified = pin_verified;
out:
  g_free(text);
  flock(lock, LOCK_UN);
  close(lock);
  return err;
}

int ml_pins_check(const char *path, const char *name, const uint8_t key[ML_IDENTITY_PUBLIC_LEN],
                  ml_pin_status *status, uint8_t pinned[ML_IDENTITY_PUBLIC_LEN]) {
  return ml_pins_check_verified(path, name, key, status, pinned, NULL);
}

int ml_pins_check_verified(const char *path, const char *name,
                           const uint8_t key[ML_IDENTITY_PUBLIC_LEN], ml_pin_status *status,
                           uint8_t pinned[ML_IDENTITY_PUBLIC_LEN], bool *verified) {
  g_assert(path && name && key && status);
  return update(path, name, key, UPDATE_CHECK, status, pinned, verified);
}

int ml_pins_replace(const char *path, const char *name, const uint8_t key[ML_IDENTITY_PUBLIC_LEN]) {
  g_assert(path && name && key);
  return update(path, name, key, UPDATE_REPLACE, NULL, NULL, NULL);
}

int ml_pins_mark_verified(const char *path, const char *name,
                          const uint8_t key[ML_IDENTITY_PUBLIC_LEN]) {
  g_assert(path && name && key);
  return update(path, name, key, UPDATE_VERIFIED, NULL, NULL, NULL);
}
