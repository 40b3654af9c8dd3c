/* sqlite_file.c — the SQLite store's files on disk (see sqlite_file.h).
 *
 * Why the refusals: an acknowledged write must never be lost silently. A
 * store file that vanished (deleted, or a volume mounted without it) must
 * not be replaced by an empty store that answers OK, accepts `bootstrap`
 * again and turns every existing key UNAUTHENTICATED: so a fresh store is
 * only created where no store ever was (no marker) or on an explicit
 * `supplysecd init`. An empty or foreign file at the path is never taken
 * for, or turned into, a store: it is refused, and nothing is written to it.
 *
 * New files appear whole: a fresh store and a restored copy are written to
 * a temporary file in the same directory, synced, then link(2)ed into place
 * (which, unlike rename, fails if a file appeared at the path meanwhile) and
 * the directory synced. The marker is written to a temporary file and
 * renamed over the old one.
 */
#include "sqlite_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoding.h"

/* PRAGMA application_id of a supplysec store: "SSEC". */
#define STORE_APPLICATION_ID 0x53534543
#define MARKER_TAG "supplysec store "
/* The first 16 bytes of every SQLite database file, NUL included. */
static const char sqlite_magic[16] = "SQLite format 3";

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* ---- paths ---- */

/* "<dir>/.<base>": where the marker and temporary files go. */
static char *hidden_prefix(const sqlite_paths *p)
{
    return str_printf("%s%s.%s", p->dir, strcmp(p->dir, "/") == 0 ? "" : "/", p->base);
}

bool sqlite_paths_init(sqlite_paths *p, const char *path)
{
    memset(p, 0, sizeof *p);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!base[0])
        return false;
    p->db = strdup(path);
    p->wal = str_printf("%s-wal", path);
    p->shm = str_printf("%s-shm", path);
    p->base = strdup(base);
    if (!slash)
        p->dir = strdup(".");
    else
        p->dir = str_printf("%.*s", slash == path ? 1 : (int)(slash - path), path);
    char *prefix = p->dir && p->base ? hidden_prefix(p) : NULL;
    p->marker = prefix ? str_printf("%s.store-id", prefix) : NULL;
    free(prefix);
    if (p->db && p->wal && p->shm && p->base && p->dir && p->marker)
        return true;
    sqlite_paths_free(p);
    return false;
}

void sqlite_paths_free(sqlite_paths *p)
{
    free(p->db);
    free(p->wal);
    free(p->shm);
    free(p->dir);
    free(p->base);
    free(p->marker);
    memset(p, 0, sizeof *p);
}

store_status sqlite_dir_make(const sqlite_paths *p, char **err)
{
    store_status st = STORE_OK;
    char *dir = strdup(p->dir);
    if (!dir) {
        store_set_err(err, "out of memory");
        return STORE_INTERNAL;
    }
    for (char *q = dir + 1; st == STORE_OK; q++) {
        char saved = *q;
        if (saved != '/' && saved != '\0')
            continue;
        *q = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            store_set_err(err, "cannot create directory %s: %s", dir, strerror(errno));
            st = STORE_UNAVAILABLE;
        }
        *q = saved;
        if (saved == '\0')
            break;
    }
    free(dir);
    return st;
}

void sqlite_file_id_read(const char *path, sqlite_file_id *id)
{
    struct stat sb;
    memset(id, 0, sizeof *id);
    if (stat(path, &sb) != 0)
        return;
    id->known = true;
    id->dev = sb.st_dev;
    id->ino = sb.st_ino;
}

static bool path_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* ---- durable small writes ---- */

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* fsync of a file or directory by path; errno set on failure. */
static bool sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return ok;
}

/* ---- the store id and the marker ---- */

static bool id_valid(const char *s)
{
    for (int i = 0; i < SQLITE_STORE_ID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool id_new(char id[SQLITE_STORE_ID_LEN + 1])
{
    uint8_t raw[SQLITE_STORE_ID_LEN / 2];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return false;
    hex_encode(raw, sizeof raw, id);
    return true;
}

typedef enum marker_state { MARKER_ABSENT, MARKER_FOUND, MARKER_UNREADABLE } marker_state;

/* The store id the marker records; why says what is wrong when UNREADABLE. */
static marker_state marker_read(const sqlite_paths *p, char id[SQLITE_STORE_ID_LEN + 1], char *why,
                                size_t size)
{
    char buf[128];
    const size_t tag = strlen(MARKER_TAG);
    int fd = open(p->marker, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return MARKER_ABSENT;
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        snprintf(why, size, "cannot read %s: %s", p->marker, strerror(saved));
        return MARKER_UNREADABLE;
    }
    buf[n] = '\0';
    if ((size_t)n < tag + SQLITE_STORE_ID_LEN + 1 || memcmp(buf, MARKER_TAG, tag) != 0 ||
        !id_valid(buf + tag) || buf[tag + SQLITE_STORE_ID_LEN] != '\n') {
        snprintf(why, size, "%s does not start with \"" MARKER_TAG "<store id>\"", p->marker);
        return MARKER_UNREADABLE;
    }
    memcpy(id, buf + tag, SQLITE_STORE_ID_LEN);
    id[SQLITE_STORE_ID_LEN] = '\0';
    return MARKER_FOUND;
}

static bool marker_write(const sqlite_paths *p, const char *id, char **err)
{
    char *text = str_printf(MARKER_TAG "%s\n"
                                       "This file records which store lives in %s next to it:\n"
                                       "supplysecd refuses to start when that file is missing or\n"
                                       "holds another store (see \"The store file\" in\n"
                                       "docs/operations.md). Keep this file with the store.\n",
                            id, p->base);
    char *tmp = str_printf("%s.tmp-XXXXXX", p->marker);
    int fd = text && tmp ? mkstemp(tmp) : -1;
    bool ok = fd >= 0 && write_all(fd, text, strlen(text)) && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (ok && rename(tmp, p->marker) != 0) {
        ok = false;
        saved = errno;
    }
    if (fd >= 0 && !ok)
        unlink(tmp);
    if (ok)
        sync_path(p->dir);
    else
        store_set_err(err, "cannot write the store marker %s: %s", p->marker,
                      text && tmp ? strerror(saved) : "out of memory");
    free(text);
    free(tmp);
    return ok;
}

/* ---- reading the identity ---- */

int sqlite_query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return sqlite3_extended_errcode(db);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    } else {
        rc = sqlite3_extended_errcode(db);
    }
    sqlite3_finalize(s);
    return rc;
}

/* The id in store_meta, or "" when there is none. */
static int store_id_read(sqlite3 *db, char id[SQLITE_STORE_ID_LEN + 1])
{
    sqlite3_stmt *s;
    id[0] = '\0';
    int rc =
        sqlite3_prepare_v2(db, "SELECT value FROM store_meta WHERE key = 'store_id'", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return sqlite3_extended_errcode(db);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        if (v && strlen(v) == SQLITE_STORE_ID_LEN && id_valid(v))
            memcpy(id, v, SQLITE_STORE_ID_LEN + 1);
        rc = SQLITE_OK;
    } else {
        rc = rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Gives db (inside the caller's transaction) the identity of a supplysec store. */
static int identity_write(sqlite3 *db, const char *id)
{
    char sql[256];
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof sql, SQLITE_STORE_META_SQL " PRAGMA application_id = %d;",
             STORE_APPLICATION_ID);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO store_meta (key, value) VALUES ('store_id', ?1)",
                                -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
    sqlite3_finalize(s);
    return rc;
}

/* ---- start-up ---- */

/* A new store with schema_sql and a new id at p->db, which does not exist. */
static store_status create_fresh(const sqlite_paths *p, const char *schema_sql,
                                 char id[SQLITE_STORE_ID_LEN + 1], char **err)
{
    store_status st = STORE_UNAVAILABLE;
    sqlite3 *db = NULL;
    int rc;
    char *prefix = hidden_prefix(p);
    char *tmp = prefix ? str_printf("%s.new-XXXXXX", prefix) : NULL;
    int fd = tmp ? mkstemp(tmp) : -1;
    if (fd < 0) {
        store_set_err(err, "cannot create a store file in %s: %s", p->dir, strerror(errno));
        goto done;
    }
    close(fd);
    if (!id_new(id)) {
        store_set_err(err, "no random bytes for the store id");
        st = STORE_INTERNAL;
        goto done;
    }
    /* The temporary file needs no journal: on any failure it is discarded,
     * and it is synced below before it takes the store's name. */
    rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN IMMEDIATE",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = identity_write(db, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_set_err(err, "cannot create the store schema in %s: %s", tmp,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto done;
    }
    sqlite3_close(db);
    db = NULL;
    if (!sync_path(tmp) || link(tmp, p->db) != 0) {
        int saved = errno;
        bool appeared = saved == EEXIST;
        store_set_err(err, "cannot put the new store in place at %s: %s%s", p->db, strerror(saved),
                      appeared ? " (a file appeared there meanwhile: start again)" : "");
        st = appeared ? STORE_REFUSED : STORE_UNAVAILABLE;
        goto done;
    }
    sync_path(p->dir);
    st = STORE_OK;
done:
    if (db)
        sqlite3_close(db);
    if (fd >= 0)
        unlink(tmp);
    free(tmp);
    free(prefix);
    return st;
}

store_status sqlite_location_prepare(const sqlite_paths *p, bool init, const char *schema_sql,
                                     bool *created, char **msg)
{
    char why[512], marked[SQLITE_STORE_ID_LEN + 1], id[SQLITE_STORE_ID_LEN + 1];
    unsigned char head[sizeof sqlite_magic];
    struct stat sb;
    *created = false;
    store_status st = sqlite_dir_make(p, msg);
    if (st != STORE_OK)
        return st;
    marker_state ms = marker_read(p, marked, why, sizeof why);
    if (ms == MARKER_UNREADABLE) {
        store_set_err(msg,
                      "refusing the store %s: %s. The marker records which store lives there; "
                      "fix or remove it only if you know which store that is",
                      p->db, why);
        return STORE_REFUSED;
    }
    if (stat(p->db, &sb) != 0) {
        if (errno != ENOENT) {
            store_set_err(msg, "cannot examine the store file %s: %s", p->db, strerror(errno));
            return STORE_UNAVAILABLE;
        }
        if (path_exists(p->wal)) {
            store_set_err(msg,
                          "refusing the store %s: the file is missing but its write-ahead log %s "
                          "is there, so the file was deleted or moved without its log. Put the "
                          "file back; if the store is to start empty, move the log away first",
                          p->db, p->wal);
            return STORE_REFUSED;
        }
        if (ms == MARKER_FOUND && !init) {
            store_set_err(msg,
                          "refusing to start an empty store: the store file %s is missing, but %s "
                          "records that store %s was created there, so the file was deleted or "
                          "moved. Put it back (with its -wal file), or restore a backup there; to "
                          "start an empty store in its place, run `supplysecd init --store "
                          "sqlite:%s`",
                          p->db, p->marker, marked, p->db);
            return STORE_REFUSED;
        }
        st = create_fresh(p, schema_sql, id, msg);
        if (st == STORE_OK && !marker_write(p, id, msg))
            st = STORE_UNAVAILABLE;
        if (st == STORE_OK) {
            *created = true;
            store_set_err(msg, "created a new, empty store %s (store id %s)", p->db, id);
        }
        return st;
    }
    char move_away[PATH_MAX + 160];
    snprintf(move_away, sizeof move_away,
             "Move it away, then put the store file back, restore a backup, or run `supplysecd "
             "init --store sqlite:%.*s` to start an empty store",
             PATH_MAX, p->db);
    if (!S_ISREG(sb.st_mode)) {
        store_set_err(msg, "refusing the store %s: it is not a regular file. %s", p->db, move_away);
        return STORE_REFUSED;
    }
    if (sb.st_size == 0) {
        store_set_err(msg,
                      "refusing the store %s: the file is empty (0 bytes), so it is not a "
                      "supplysec store (a store file is never empty) and no store is started in "
                      "its place. %s",
                      p->db, move_away);
        return STORE_REFUSED;
    }
    int fd = open(p->db, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, head, sizeof head);
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        store_set_err(msg, "cannot read the store file %s: %s", p->db, strerror(saved));
        return STORE_UNAVAILABLE;
    }
    if ((size_t)n < sizeof head || memcmp(head, sqlite_magic, sizeof head) != 0) {
        store_set_err(msg,
                      "refusing the store %s: the file is not a SQLite database (its %lld bytes "
                      "do not start with the SQLite header), so it is not a supplysec store. %s",
                      p->db, (long long)sb.st_size, move_away);
        return STORE_REFUSED;
    }
    return STORE_OK;
}

/* Compares the store's id with the marker's: REFUSED when the marker names
 * another store and this is not an init. *write: the marker is to be
 * (re)written; marked: the other store's id when it differs, else "". */
static store_status marker_check(const sqlite_paths *p, const char *id, bool legacy, bool init,
                                 char marked[SQLITE_STORE_ID_LEN + 1], bool *write, char **msg)
{
    char why[512];
    marked[0] = '\0';
    marker_state ms = marker_read(p, marked, why, sizeof why);
    if (ms == MARKER_UNREADABLE) {
        store_set_err(msg, "refusing the store %s: %s", p->db, why);
        return STORE_REFUSED;
    }
    bool differs = ms == MARKER_FOUND && strcmp(marked, id) != 0;
    if (differs && !init) {
        if (legacy)
            store_set_err(msg,
                          "refusing the store %s: it is a store from before stores had an id, "
                          "but %s records that store %s was there, so it may be an old backup or "
                          "another store. If it is the right one, run `supplysecd init --store "
                          "sqlite:%s` to accept it",
                          p->db, p->marker, marked, p->db);
        else
            store_set_err(msg,
                          "refusing the store %s: it holds store %s, but %s records that store %s "
                          "was there, so the file was replaced by another store. Put the right "
                          "file back; if this store is meant to be here (a backup of another "
                          "store, restored on purpose), run `supplysecd init --store sqlite:%s` "
                          "to accept it",
                          p->db, id, p->marker, marked, p->db);
        return STORE_REFUSED;
    }
    *write = ms == MARKER_ABSENT || differs;
    if (!differs)
        marked[0] = '\0';
    return STORE_OK;
}

store_status sqlite_store_identify(sqlite3 *db, const sqlite_paths *p, bool init,
                                   int schema_version, char **msg)
{
    int64_t app = 0, version = 0, tables = 0, meta = 0;
    char id[SQLITE_STORE_ID_LEN + 1] = "";
    int rc = sqlite_query_int(db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = sqlite_query_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = sqlite_query_int(db,
                              "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                              " AND name IN ('resources', 'audit_events')",
                              &tables);
    if (rc == SQLITE_OK)
        rc = sqlite_query_int(db,
                              "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                              " AND name = 'store_meta'",
                              &meta);
    if (rc == SQLITE_OK && app == STORE_APPLICATION_ID && meta)
        rc = store_id_read(db, id);
    if (rc != SQLITE_OK) {
        bool unusable = (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
        store_set_err(msg, "%s the store file %s: %s%s", unusable ? "refusing" : "cannot read",
                      p->db, sqlite3_errstr(rc),
                      unusable ? ". Restore a backup, or move it away and run `supplysecd init`"
                               : "");
        return unusable ? STORE_REFUSED : STORE_UNAVAILABLE;
    }
    bool ours = app == STORE_APPLICATION_ID;
    /* (every store before identities was at schema version 1) */
    bool legacy = app == 0 && version >= 1 && version <= schema_version && tables == 2;
    if (!ours && !legacy) {
        store_set_err(msg,
                      "refusing the store %s: it is a SQLite database but not a supplysec store "
                      "(application_id %lld, user_version %lld, %s). Move it away, then put the "
                      "store file back, restore a backup, or run `supplysecd init --store "
                      "sqlite:%s` to start an empty store",
                      p->db, (long long)app, (long long)version,
                      tables == 2 ? "with tables of a supplysec store" : "without its tables",
                      p->db);
        return STORE_REFUSED;
    }
    if (ours && !id[0]) {
        store_set_err(msg,
                      "refusing the store %s: it is marked as a supplysec store but has no store "
                      "id, so it is damaged. Restore a backup",
                      p->db);
        return STORE_REFUSED;
    }
    char marked[SQLITE_STORE_ID_LEN + 1];
    bool write = false;
    /* Stores written before stores had an identity are supplysec's: the same
     * schema version and tables, application_id never set. They get an id,
     * once the marker was asked (nothing is written into a refused file). */
    if (legacy && !id_new(id)) {
        store_set_err(msg, "no random bytes for the store id");
        return STORE_INTERNAL;
    }
    store_status st = marker_check(p, id, legacy, init, marked, &write, msg);
    if (st != STORE_OK)
        return st;
    if (legacy) {
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = identity_write(db, id);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            store_set_err(msg, "cannot give the store %s its id: %s", p->db, sqlite3_errmsg(db));
            if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return STORE_UNAVAILABLE;
        }
    }
    if (write && !marker_write(p, id, msg))
        return STORE_UNAVAILABLE;
    if (!msg)
        return STORE_OK;
    free(*msg);
    *msg = NULL;
    if (legacy)
        store_set_err(msg, "adopted the store %s written by an earlier release: its id is now %s",
                      p->db, id);
    else if (marked[0])
        store_set_err(msg, "accepted the store %s (store id %s) in place of store %s", p->db, id,
                      marked);
    else if (init)
        store_set_err(msg, "the store %s (store id %s) is in place; nothing to do", p->db, id);
    return STORE_OK;
}

/* ---- after start-up ---- */

sqlite_files_state sqlite_files_check(sqlite3 *db, const sqlite_paths *p, const sqlite_file_id *wal,
                                      char *why, size_t size)
{
    struct stat sb;
    int moved = 0;
    why[0] = '\0';
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved) {
        if (stat(p->db, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
            snprintf(why, size, "the store file %s was deleted while open", p->db);
            return SQLITE_FILES_DB_DELETED;
        }
        snprintf(why, size, "the store file %s was replaced by another file while open", p->db);
        return SQLITE_FILES_DB_REPLACED;
    }
    if (!wal->known)
        return SQLITE_FILES_OK;
    if (stat(p->wal, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            snprintf(why, size, "the store's write-ahead log %s was deleted while open", p->wal);
            return SQLITE_FILES_WAL_DELETED;
        }
        snprintf(why, size, "the store's write-ahead log %s cannot be examined: %s", p->wal,
                 strerror(errno));
        return SQLITE_FILES_WAL_REPLACED;
    }
    if (sb.st_dev != wal->dev || sb.st_ino != wal->ino) {
        snprintf(why, size, "the store's write-ahead log %s was replaced by another file", p->wal);
        return SQLITE_FILES_WAL_REPLACED;
    }
    return SQLITE_FILES_OK;
}

/* Unlinks path when it is still the file id (the open database's
 * companion); false when another file is in the way. */
static bool companion_remove(const char *path, const sqlite_file_id *id, char *why, size_t size)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return true;
    if (!id->known || sb.st_dev != id->dev || sb.st_ino != id->ino) {
        snprintf(why, size, "%s is not the open store's own file", path);
        return false;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(why, size, "cannot remove %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

store_status sqlite_file_restore(sqlite3 *src, const sqlite_paths *p, const sqlite_file_id *old_wal,
                                 const sqlite_file_id *old_shm, char *why, size_t size)
{
    char id[SQLITE_STORE_ID_LEN + 1], marked[SQLITE_STORE_ID_LEN + 1], reason[512];
    char *err = NULL, *tmp = NULL, *prefix = NULL;
    sqlite3 *dst = NULL;
    int fd = -1, rc;
    marker_state ms;
    store_status st = STORE_UNAVAILABLE;
    if (sqlite_dir_make(p, &err) != STORE_OK) {
        snprintf(why, size, "%s", err ? err : "cannot create the directory");
        goto done;
    }
    rc = store_id_read(src, id);
    ms = marker_read(p, marked, reason, sizeof reason);
    if (rc != SQLITE_OK || !id[0]) {
        snprintf(why, size, "cannot read the open store's id: %s", sqlite3_errstr(rc));
        goto done;
    }
    if (ms == MARKER_UNREADABLE || (ms == MARKER_FOUND && strcmp(marked, id) != 0)) {
        snprintf(why, size, "%s now records another store", p->marker);
        st = STORE_REFUSED;
        goto done;
    }
    if (!companion_remove(p->wal, old_wal, why, size) ||
        !companion_remove(p->shm, old_shm, why, size)) {
        st = STORE_REFUSED;
        goto done;
    }
    prefix = hidden_prefix(p);
    tmp = prefix ? str_printf("%s.restore-XXXXXX", prefix) : NULL;
    fd = tmp ? mkstemp(tmp) : -1;
    if (fd < 0) {
        snprintf(why, size, "cannot create a file in %s: %s", p->dir, strerror(errno));
        goto done;
    }
    close(fd);
    /* No journal for the copy: it is synced below, before it takes the
     * store's name, and discarded on any failure. */
    rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dst);
        int finished = b ? sqlite3_backup_finish(b) : rc;
        rc = rc == SQLITE_DONE ? finished : rc;
    }
    if (rc != SQLITE_OK) {
        snprintf(why, size, "cannot copy the open store to %s: %s", tmp,
                 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        goto done;
    }
    sqlite3_close(dst);
    dst = NULL;
    if (!sync_path(tmp) || link(tmp, p->db) != 0) {
        int saved = errno;
        snprintf(why, size, "cannot put the copy in place at %s: %s", p->db, strerror(saved));
        st = saved == EEXIST ? STORE_REFUSED : STORE_UNAVAILABLE;
        goto done;
    }
    sync_path(p->dir);
    st = STORE_OK;
    if (ms == MARKER_ABSENT && !marker_write(p, id, &err))
        snprintf(why, size, "%s", err); /* the data is back; the next start rewrites it */
done:
    if (dst)
        sqlite3_close(dst);
    if (fd >= 0)
        unlink(tmp);
    free(tmp);
    free(prefix);
    free(err);
    return st;
}
