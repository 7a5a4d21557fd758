/*
** ledger_rows: a table-valued function that reads a batch's rows from one BLOB parameter, so
** that a batch of charges, journal entries or balance updates goes into SQLite in one
** statement with one bound value, and SQLite neither parses JSON nor allocates per value
** (measured: JSON extraction was two fifths of SQLite's time in ingestion, see rows.go).
**
**   INSERT INTO t(a, b) SELECT c0, c1 FROM ledger_rows(?)
**
** The BLOB (written by sql.Rows) is one byte, the number of columns of each row (1 to 16),
** then the rows, value after value:
**   0x00             NULL
**   0x01 + 8 bytes   an integer, little-endian two's complement
**   0x02 + 4 bytes   text: its length in bytes, little-endian, then the UTF-8 bytes
** A BLOB that does not end after a whole row is refused with an error naming the byte.
*/
#include <string.h>
#include "rows.h"

#define ROWS_MAX_COLUMNS 16
#define ROWS_COLUMN_DATA ROWS_MAX_COLUMNS /* the hidden column that takes the BLOB */

enum { ROWS_NULL = 0, ROWS_INT = 1, ROWS_TEXT = 2 };

typedef struct {
  sqlite3_vtab_cursor base;
  unsigned char *buf; /* the cursor's copy of the BLOB */
  sqlite3_int64 size, cap;
  sqlite3_int64 at;    /* where the next row begins */
  sqlite3_int64 rowid; /* the current row's number, from 1 */
  int ncols, eof;
  unsigned char type[ROWS_MAX_COLUMNS];
  sqlite3_int64 num[ROWS_MAX_COLUMNS];
  const char *text[ROWS_MAX_COLUMNS];
  int len[ROWS_MAX_COLUMNS];
} rows_cursor;

/* rows_fail reports what is wrong with the BLOB, at which row and byte (counted from 0); at < 0:
** with the argument itself, no row or byte. */
static int rows_fail(rows_cursor *c, const char *what, sqlite3_int64 at) {
  sqlite3_vtab *vt = c->base.pVtab;
  sqlite3_free(vt->zErrMsg);
  if (at < 0) {
    vt->zErrMsg = sqlite3_mprintf("ledger_rows: %s", what);
  } else {
    vt->zErrMsg = sqlite3_mprintf("ledger_rows: %s (row %lld, byte %lld of %lld)", what, c->rowid + 1, at, c->size);
  }
  return vt->zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* rows_read reads the row at c->at into the cursor, or sets eof at the end of the BLOB. */
static int rows_read(rows_cursor *c) {
  const unsigned char *b = c->buf;
  sqlite3_int64 at = c->at;
  int i, k;
  if (at == c->size) {
    c->eof = 1;
    return SQLITE_OK;
  }
  for (i = 0; i < c->ncols; i++) {
    if (at >= c->size) return rows_fail(c, "the BLOB ends inside a row", at);
    c->type[i] = b[at++];
    switch (c->type[i]) {
    case ROWS_NULL:
      break;
    case ROWS_INT: {
      sqlite3_uint64 v = 0;
      if (c->size - at < 8) return rows_fail(c, "the BLOB ends inside an integer", at - 1);
      for (k = 7; k >= 0; k--) v = (v << 8) | b[at + k];
      c->num[i] = (sqlite3_int64)v;
      at += 8;
      break;
    }
    case ROWS_TEXT: {
      sqlite3_uint64 n = 0;
      if (c->size - at < 4) return rows_fail(c, "the BLOB ends inside a text's length", at - 1);
      for (k = 3; k >= 0; k--) n = (n << 8) | b[at + k];
      at += 4;
      if (n > 0x7fffffff || (sqlite3_uint64)(c->size - at) < n) return rows_fail(c, "the BLOB ends inside a text", at - 5);
      c->text[i] = (const char *)b + at;
      c->len[i] = (int)n;
      at += (sqlite3_int64)n;
      break;
    }
    default:
      return rows_fail(c, "unknown value type", at - 1);
    }
  }
  c->at = at;
  c->rowid++;
  return SQLITE_OK;
}

static int rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err) {
  sqlite3_vtab *vt;
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, data HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  vt = sqlite3_malloc64(sizeof(*vt));
  if (vt == 0) return SQLITE_NOMEM;
  memset(vt, 0, sizeof(*vt));
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *out = vt;
  return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *vt) {
  sqlite3_free(vt);
  return SQLITE_OK;
}

/* rows_best_index asks for the BLOB, the equality constraint on the hidden column. */
static int rows_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  int i, unusable = 0;
  for (i = 0; i < info->nConstraint; i++) {
    if (info->aConstraint[i].iColumn != ROWS_COLUMN_DATA || info->aConstraint[i].op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!info->aConstraint[i].usable) {
      unusable = 1;
      continue;
    }
    info->aConstraintUsage[i].argvIndex = 1;
    info->aConstraintUsage[i].omit = 1;
    info->idxNum = 1;
    info->estimatedCost = 1.0;
    info->estimatedRows = 1000;
    return SQLITE_OK;
  }
  if (unusable) return SQLITE_CONSTRAINT; /* the BLOB comes from another table: the planner tries another order */
  info->idxNum = 0; /* no BLOB at all: xFilter says so */
  info->estimatedCost = 1e99;
  return SQLITE_OK;
}

static int rows_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
  rows_cursor *c = sqlite3_malloc64(sizeof(*c));
  if (c == 0) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  *out = &c->base;
  return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *cur) {
  rows_cursor *c = (rows_cursor *)cur;
  sqlite3_free(c->buf);
  sqlite3_free(c);
  return SQLITE_OK;
}

static int rows_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc, sqlite3_value **argv) {
  rows_cursor *c = (rows_cursor *)cur;
  int n;
  c->size = c->at = c->rowid = 0;
  c->ncols = 0;
  c->eof = 1;
  if (idxNum != 1 || argc != 1) return rows_fail(c, "the rows are missing: ledger_rows(?)", -1);
  if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) return rows_fail(c, "the rows must be a BLOB", -1);
  n = sqlite3_value_bytes(argv[0]);
  if (n < 1) return rows_fail(c, "the BLOB is empty: it begins with its number of columns", -1);
  if (n > c->cap) {
    unsigned char *b = sqlite3_realloc64(c->buf, (sqlite3_uint64)n);
    if (b == 0) return SQLITE_NOMEM;
    c->buf = b;
    c->cap = n;
  }
  {
    const void *blob = sqlite3_value_blob(argv[0]); /* NULL only when SQLite runs out of memory */
    if (blob == 0) return SQLITE_NOMEM;
    memcpy(c->buf, blob, (size_t)n);
  }
  c->size = n;
  c->ncols = c->buf[0];
  if (c->ncols < 1 || c->ncols > ROWS_MAX_COLUMNS) return rows_fail(c, "a row has 1 to 16 columns", -1);
  c->at = 1;
  c->eof = 0;
  return rows_read(c);
}

static int rows_next(sqlite3_vtab_cursor *cur) { return rows_read((rows_cursor *)cur); }

static int rows_eof(sqlite3_vtab_cursor *cur) { return ((rows_cursor *)cur)->eof; }

static int rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  rows_cursor *c = (rows_cursor *)cur;
  if (i >= c->ncols) {
    sqlite3_result_null(ctx); /* a column the rows do not have, or the BLOB itself */
    return SQLITE_OK;
  }
  switch (c->type[i]) {
  case ROWS_INT:
    sqlite3_result_int64(ctx, c->num[i]);
    break;
  case ROWS_TEXT:
    /* TRANSIENT: SQLite copies into the register's buffer, which it keeps from row to row. */
    sqlite3_result_text(ctx, c->text[i], c->len[i], SQLITE_TRANSIENT);
    break;
  default:
    sqlite3_result_null(ctx);
  }
  return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = ((rows_cursor *)cur)->rowid;
  return SQLITE_OK;
}

static const sqlite3_module rows_module = {
    0,               /* iVersion */
    0,               /* xCreate: eponymous only, ledger_rows(?) */
    rows_connect,    /* xConnect */
    rows_best_index, /* xBestIndex */
    rows_disconnect, /* xDisconnect */
    0,               /* xDestroy */
    rows_open,       /* xOpen */
    rows_close,      /* xClose */
    rows_filter,     /* xFilter */
    rows_next,       /* xNext */
    rows_eof,        /* xEof */
    rows_column,     /* xColumn */
    rows_rowid,      /* xRowid */
};

static int rows_register(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  return sqlite3_create_module_v2(db, "ledger_rows", &rows_module, 0, 0);
}

/* ledger_register_rows makes ledger_rows part of every connection opened from now on. */
int ledger_register_rows(void) { return sqlite3_auto_extension((void (*)(void))rows_register); }

/* ledger_memstatus_off stops SQLite counting its memory, which takes a process-wide mutex
** on every allocation (SQLite's own advice for speed: SQLITE_DEFAULT_MEMSTATUS=0). It works
** only before the first connection is opened. */
int ledger_memstatus_off(void) { return sqlite3_config(9 /* SQLITE_CONFIG_MEMSTATUS */, 0); }
