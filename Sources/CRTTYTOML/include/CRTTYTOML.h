#ifndef CRTTYTOML_H
#define CRTTYTOML_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A parsed TOML document (toml++), owned by the caller until rtty_toml_free. Its nodes
/// are only read, never changed, and live as long as the document.
typedef struct rtty_toml_document rtty_toml_document;
typedef struct rtty_toml_node rtty_toml_node;

typedef enum {
    RTTY_TOML_TABLE, RTTY_TOML_ARRAY, RTTY_TOML_STRING, RTTY_TOML_INTEGER, RTTY_TOML_FLOAT,
    RTTY_TOML_BOOLEAN, RTTY_TOML_DATE_TIME, RTTY_TOML_NONE
} rtty_toml_type;

/// Parses `length` bytes of `text`. NULL on a syntax error, with its description copied
/// to `error` (NUL-terminated, cut to `error_size`) and its line and column.
rtty_toml_document *rtty_toml_parse(const char *text, size_t length, char *error, size_t error_size, long *line, long *column);
void rtty_toml_free(rtty_toml_document *document);

/// The root table.
const rtty_toml_node *rtty_toml_root(const rtty_toml_document *document);
rtty_toml_type rtty_toml_type_of(const rtty_toml_node *node);
/// Entries of a table, or elements of an array (0 for anything else).
size_t rtty_toml_count(const rtty_toml_node *node);
/// The i-th key of a table (its bytes, not NUL-terminated) and its value. Entries come in
/// the table's own order (by key); i below rtty_toml_count.
const char *rtty_toml_key(const rtty_toml_node *table, size_t i, size_t *length);
const rtty_toml_node *rtty_toml_value(const rtty_toml_node *table, size_t i);
/// The i-th element of an array.
const rtty_toml_node *rtty_toml_element(const rtty_toml_node *array, size_t i);
/// The scalar of a node of that type (a string's bytes, not NUL-terminated).
const char *rtty_toml_string(const rtty_toml_node *node, size_t *length);
int64_t rtty_toml_integer(const rtty_toml_node *node);
double rtty_toml_float(const rtty_toml_node *node);
int rtty_toml_boolean(const rtty_toml_node *node);

#ifdef __cplusplus
}
#endif

#endif
