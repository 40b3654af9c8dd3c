/* sqlite_file.h — the SQLite store's files on disk, for store_sqlite.c.
 *
 * Owns: which file at a store path is a supplysec store and which is
 * refused; the store's identity (PRAGMA application_id, the store id in
 * store_meta, and the marker file next to the store that records which store
 * the location holds); creating a fresh store file atomically; noticing that
 * the open files were deleted or replaced; and copying the open database back
 * into place. The data schema itself is store_sqlite.c's.
 *
 * The marker is "<dir>/.<file>.store-id" (for data/supplysec.db:
 * data/.supplysec.db.store-id). Its name does not start with the store
 * file's name, so `rm data/supplysec.db*` leaves it, and the next start
 * knows a store was there and refuses to create an empty one in its place.
 */
#ifndef SUPPLYSEC_SQLITE_FILE_H
#define SUPPLYSEC_SQLITE_FILE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

#define SQLITE_STORE_ID_LEN 32 /* hex characters */
/* The store's own key-value table: its identity (here), the health probe's
 * test row and the facet marks (store_sqlite.c). */
#define SQLITE_STORE_META_SQL                                                                      \
    "CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"

/* The files of one store path, malloc'd. */
typedef struct sqlite_paths {
    char *db, *wal, *shm; /* the store file and SQLite's companions */
    char *dir, *base;     /* the directory holding it ("." when none), its file name */
    char *marker;         /* <dir>/.<base>.store-id */
} sqlite_paths;

bool sqlite_paths_init(sqlite_paths *p, const char *path);
void sqlite_paths_free(sqlite_paths *p);

/* The first column of sql's first row into *out (left alone when there is
 * no row): SQLITE_OK or the extended error code. */
int sqlite_query_int(sqlite3 *db, const char *sql, int64_t *out);

/* mkdir -p of p->dir (mode 0700: the store holds credentials' hashes). */
store_status sqlite_dir_make(const sqlite_paths *p, char **err);

/* A file as the kernel knows it, to tell it from another at the same path. */
typedef struct sqlite_file_id {
    bool known; /* false: there was no file */
    dev_t dev;
    ino_t ino;
} sqlite_file_id;

void sqlite_file_id_read(const char *path, sqlite_file_id *id);

/* Start-up, before SQLite opens p->db. Refuses (STORE_REFUSED, *msg says
 * why and what to do) an empty file, a file that is not SQLite, a stray
 * write-ahead log without its database, and — unless init — a missing store
 * file where the marker says one was. Creates a fresh store (schema_sql and
 * the identity, then linked into place) when p->db does not exist and that is
 * allowed; *created tells. */
store_status sqlite_location_prepare(const sqlite_paths *p, bool init, const char *schema_sql,
                                     bool *created, char **msg);

/* Start-up, on the first connection to p->db and before anything writes:
 * refuses a SQLite database that is not a supplysec store, adopts a store
 * written before stores had an identity (application_id 0, user_version
 * schema_version and the store's tables), and checks the store's id
 * against the marker (writing the marker when there is none; init also
 * replaces one that names another store). On success *msg (when msg is not
 * NULL) says what was done, or is NULL when nothing was. */
store_status sqlite_store_identify(sqlite3 *db, const sqlite_paths *p, bool init,
                                   int schema_version, char **msg);

typedef enum sqlite_files_state {
    SQLITE_FILES_OK,
    SQLITE_FILES_DB_DELETED,  /* nothing at the store's path */
    SQLITE_FILES_DB_REPLACED, /* another file at the store's path */
    SQLITE_FILES_WAL_DELETED, /* the open write-ahead log is gone from its path */
    SQLITE_FILES_WAL_REPLACED,
} sqlite_files_state;

/* Whether the files db has open are still the ones at their paths (db's
 * SQLITE_FCNTL_HAS_MOVED, and the -wal file against *wal recorded at open).
 * One or two stat calls. why gets a sentence when not SQLITE_FILES_OK. */
sqlite_files_state sqlite_files_check(sqlite3 *db, const sqlite_paths *p, const sqlite_file_id *wal,
                                      char *why, size_t size);

/* Puts the database open in src back at p->db, where there is no file:
 * copies it (sqlite3_backup) into a temporary file in p->dir, syncs it and
 * links it into place, never over a file that appeared meanwhile; removes
 * the open database's -wal and -shm files (old_wal, old_shm) if still at
 * their paths, so no new connection replays them onto the copy; writes the
 * marker when it is missing. The caller holds every connection. */
store_status sqlite_file_restore(sqlite3 *src, const sqlite_paths *p, const sqlite_file_id *old_wal,
                                 const sqlite_file_id *old_shm, char *why, size_t size);

#endif
