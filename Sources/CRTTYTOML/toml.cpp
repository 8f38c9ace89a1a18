// rtty.conf is parsed by toml++ (Debian's libtomlplusplus-dev, header-only), behind a
// small read-only C interface that the Swift side walks into its own values. The document
// is freed as a whole when the walk is done, so a reload leaves nothing behind.
#define TOML_EXCEPTIONS 0
#define TOML_HEADER_ONLY 1
#include <toml++/toml.h>

#include <cstring>
#include <iterator>
#include <string_view>

#include "CRTTYTOML.h"

struct rtty_toml_document {
    toml::table root;
};

namespace {
const toml::node *node(const rtty_toml_node *n) { return reinterpret_cast<const toml::node *>(n); }
const rtty_toml_node *handle(const toml::node *n) { return reinterpret_cast<const rtty_toml_node *>(n); }

/// The i-th entry of a table: std::map order, reached by stepping (tables are small).
toml::table::const_iterator entry(const rtty_toml_node *table, size_t i) {
    const toml::table *t = node(table)->as_table();
    return std::next(t->cbegin(), static_cast<std::ptrdiff_t>(i));
}
}  // namespace

extern "C" {

rtty_toml_document *rtty_toml_parse(const char *text, size_t length, char *error, size_t error_size, long *line, long *column) {
    toml::parse_result result = toml::parse(std::string_view(text, length));
    if (!result) {
        const toml::parse_error &problem = result.error();
        std::string_view description = problem.description();
        size_t n = description.size() < error_size - 1 ? description.size() : error_size - 1;
        std::memcpy(error, description.data(), n);
        error[n] = 0;
        *line = static_cast<long>(problem.source().begin.line);
        *column = static_cast<long>(problem.source().begin.column);
        return nullptr;
    }
    return new rtty_toml_document{std::move(result).table()};
}

void rtty_toml_free(rtty_toml_document *document) { delete document; }

const rtty_toml_node *rtty_toml_root(const rtty_toml_document *document) { return handle(&document->root); }

rtty_toml_type rtty_toml_type_of(const rtty_toml_node *n) {
    switch (node(n)->type()) {
    case toml::node_type::table: return RTTY_TOML_TABLE;
    case toml::node_type::array: return RTTY_TOML_ARRAY;
    case toml::node_type::string: return RTTY_TOML_STRING;
    case toml::node_type::integer: return RTTY_TOML_INTEGER;
    case toml::node_type::floating_point: return RTTY_TOML_FLOAT;
    case toml::node_type::boolean: return RTTY_TOML_BOOLEAN;
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return RTTY_TOML_DATE_TIME;
    default: return RTTY_TOML_NONE;
    }
}

size_t rtty_toml_count(const rtty_toml_node *n) {
    if (const toml::table *t = node(n)->as_table()) return t->size();
    if (const toml::array *a = node(n)->as_array()) return a->size();
    return 0;
}

const char *rtty_toml_key(const rtty_toml_node *table, size_t i, size_t *length) {
    std::string_view key = entry(table, i)->first.str();
    *length = key.size();
    return key.data();
}

const rtty_toml_node *rtty_toml_value(const rtty_toml_node *table, size_t i) { return handle(&entry(table, i)->second); }

const rtty_toml_node *rtty_toml_element(const rtty_toml_node *array, size_t i) { return handle(node(array)->as_array()->get(i)); }

const char *rtty_toml_string(const rtty_toml_node *n, size_t *length) {
    const std::string &text = node(n)->as_string()->get();
    *length = text.size();
    return text.data();
}

int64_t rtty_toml_integer(const rtty_toml_node *n) { return node(n)->as_integer()->get(); }
double rtty_toml_float(const rtty_toml_node *n) { return node(n)->as_floating_point()->get(); }
int rtty_toml_boolean(const rtty_toml_node *n) { return node(n)->as_boolean()->get() ? 1 : 0; }
}
