#ifndef NETOBS_CLIBBPF_SHIM_H
#define NETOBS_CLIBBPF_SHIM_H
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Swift cannot call a C variadic callback: libbpf's print callback is installed here and
 * forwards each formatted line to a plain function pointer set from Swift. */
typedef void (*netobs_libbpf_line_fn)(int level, const char *line);

/* A function-local static: Swift does not emit a header's file-scope static variables. */
static inline netobs_libbpf_line_fn *netobs_libbpf_line_sink(void)
{
    static netobs_libbpf_line_fn sink;
    return &sink;
}

static inline int netobs_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
    char line[2048];
    vsnprintf(line, sizeof(line), fmt, args);
    netobs_libbpf_line_fn sink = *netobs_libbpf_line_sink();
    if (sink)
        sink((int)level, line);
    return 0;
}

static inline void netobs_libbpf_install_print(netobs_libbpf_line_fn sink)
{
    *netobs_libbpf_line_sink() = sink;
    libbpf_set_print(netobs_libbpf_print);
}

/* btf_enum() and friends are static inline in btf.h; wrap the ones Swift needs. */
static inline const char *netobs_btf_enum_name(const struct btf *btf, const struct btf_type *t, int i)
{
    if (btf_is_enum(t))
        return btf__name_by_offset(btf, btf_enum(t)[i].name_off);
    return btf__name_by_offset(btf, btf_enum64(t)[i].name_off);
}

static inline long long netobs_btf_enum_value(const struct btf_type *t, int i)
{
    if (btf_is_enum(t))
        return btf_enum(t)[i].val;
    return (long long)btf_enum64_value(&btf_enum64(t)[i]);
}

/* Offset of global `var` in data section `sec` (e.g. ".rodata") of an object's BTF, or -1. */
static inline long netobs_btf_datasec_var_offset(const struct btf *btf, const char *sec, const char *var)
{
    int id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
    if (id <= 0)
        return -1;
    const struct btf_type *t = btf__type_by_id(btf, id);
    const struct btf_var_secinfo *vs = btf_var_secinfos(t);
    for (int i = 0; i < btf_vlen(t); i++, vs++) {
        const struct btf_type *v = btf__type_by_id(btf, vs->type);
        if (strcmp(btf__name_by_offset(btf, v->name_off), var) == 0)
            return vs->offset;
    }
    return -1;
}

static inline int netobs_btf_vlen(const struct btf_type *t) { return btf_vlen(t); }
static inline int netobs_btf_is_any_enum(const struct btf_type *t) { return btf_is_any_enum(t); }

#endif
