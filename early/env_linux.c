//go:build cgo

/*
 * Parsing of the gons_* environment variables, in place.
 *
 * This runs before the Go runtime and before anything of the program, so
 * it allocates nothing and calls nothing that might: it reads the strings
 * the kernel put on the stack and keeps pointers into them. It makes no
 * system calls either; the constructor in preinit_linux.c does those.
 */
#include <errno.h>
#include <string.h>

#include "gons.h"

const char *const gons_type_names[GONS_NTYPES] = {
	[GONS_CGROUP] = "cgroup", [GONS_IPC] = "ipc",   [GONS_MNT] = "mnt",
	[GONS_NET] = "net",       [GONS_PID] = "pid",   [GONS_TIME] = "time",
	[GONS_USER] = "user",     [GONS_UTS] = "uts",
};

/*
 * The order without gons_order. user comes first because the other
 * namespaces may be owned by it and joining it grants the capabilities to
 * join them; pid comes last because joining it means a fork at the end.
 */
static const int default_order[GONS_NTYPES] = {
	GONS_USER, GONS_MNT, GONS_CGROUP, GONS_IPC,
	GONS_NET,  GONS_UTS, GONS_TIME,   GONS_PID,
};

/* Returns 1 when s begins with "gons_", 0 otherwise. The && stops at the NUL of a shorter s. */
static int is_gons(const char *s)
{
	return s[0] == 'g' && s[1] == 'o' && s[2] == 'n' && s[3] == 's' && s[4] == '_';
}

/* Returns the type named by the len bytes at s, or -1. */
static int type_of(const char *s, size_t len)
{
	for (int t = 0; t < GONS_NTYPES; t++) {
		const char *name = gons_type_names[t];
		if (strlen(name) == len && memcmp(name, s, len) == 0)
			return t;
	}
	return -1;
}

/*
 * Copies len bytes of src to dst, which holds size bytes, NUL-terminated.
 * What does not fit is cut off and marked with "...".
 */
void gons_copy(char *dst, int size, const char *src, int len)
{
	if (len < size) {
		memcpy(dst, src, len);
		dst[len] = '\0';
		return;
	}
	memcpy(dst, src, size - 4);
	memcpy(dst + size - 4, "...", 4);
}

/* Records a failure of op for type (or -1) on path (or NULL). */
void gons_fail(struct gons_record *rec, int op, int type, int err, const char *path)
{
	rec->op = op;
	rec->type = type;
	rec->err = err;
	rec->code = GONS_CODE_NONE;
	rec->index = 0;
	rec->other = -1;
	rec->detail[0] = '\0';
	rec->path[0] = '\0';
	if (path != NULL)
		gons_copy(rec->path, sizeof(rec->path), path, strnlen(path, sizeof(rec->path)));
}

/* Records a parse failure with a code and its detail. Returns -1. */
static int parse_fail(struct gons_record *rec, int code, int type, const char *detail, size_t len)
{
	gons_fail(rec, GONS_OP_PARSE, type, 0, NULL);
	rec->code = code;
	gons_copy(rec->detail, sizeof(rec->detail), detail, len);
	return -1;
}

/*
 * Parses one variable; var points at its "gons_" prefix. Returns 0, or -1
 * with rec filled.
 */
static int parse_var(const char *var, struct gons_spec *spec, const char **order, unsigned *seen,
		     struct gons_record *rec)
{
	const char *name = var + 5;
	size_t len = strcspn(name, "=");
	const char *value = name[len] == '=' ? name + len + 1 : name + len;
	int t = len == 5 && memcmp(name, "order", 5) == 0 ? GONS_NTYPES : type_of(name, len);
	unsigned bit = 1u << (t < 0 ? 0 : t);

	if (t < 0)
		return parse_fail(rec, GONS_CODE_UNKNOWN_VAR, -1, var, len + 5);
	/* Two values for one variable: which one the caller meant is anyone's guess. */
	if (*seen & bit)
		return parse_fail(rec, GONS_CODE_DUPLICATE_VAR, -1, var, len + 5);
	*seen |= bit;
	/* Treat an empty value as an unset variable. */
	if (*value == '\0')
		return 0;
	if (t == GONS_NTYPES) {
		*order = value;
		return 0;
	}
	if (strnlen(value, GONS_PATH_MAX) == GONS_PATH_MAX) {
		gons_fail(rec, GONS_OP_PARSE, t, ENAMETOOLONG, value);
		rec->code = GONS_CODE_PATH_TOO_LONG;
		return -1;
	}
	spec->path[t] = value;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Parses the gons_order item from begin to end, the index-th (from 1), and
 * appends its type to spec if that type's variable is set. Returns 0, or -1
 * with rec filled.
 */
static int parse_item(const char *begin, const char *end, int index, unsigned *listed,
		      struct gons_spec *spec, struct gons_record *rec)
{
	while (begin < end && is_blank(*begin))
		begin++;
	while (end > begin && is_blank(end[-1]))
		end--;
	if (begin == end) {
		parse_fail(rec, GONS_CODE_EMPTY_ITEM, -1, "", 0);
		rec->index = index;
		return -1;
	}
	int bang = *begin == '!';
	if (bang && begin + 1 == end) {
		parse_fail(rec, GONS_CODE_BANG_ALONE, -1, "!", 1);
		rec->index = index;
		return -1;
	}
	int t = type_of(begin + bang, end - begin - bang);
	if (t < 0)
		return parse_fail(rec, GONS_CODE_UNKNOWN_TYPE, -1, begin, end - begin);
	if (*listed & (1u << t))
		return parse_fail(rec, GONS_CODE_DUPLICATE_TYPE, t, begin, end - begin);
	*listed |= 1u << t;
	/* An order may name types that are not asked for; they are skipped. */
	if (spec->path[t] == NULL)
		return 0;
	spec->order[spec->norder++] = t;
	if (bang)
		spec->bang |= 1u << t;
	return 0;
}

/*
 * Fills spec->order from gons_order, or from the default order when order
 * is NULL. Returns 0, or -1 with rec filled.
 */
static int parse_order(const char *order, struct gons_spec *spec, struct gons_record *rec)
{
	unsigned listed = 0;

	if (order == NULL) {
		for (int i = 0; i < GONS_NTYPES; i++) {
			int t = default_order[i];
			if (spec->path[t] != NULL) {
				spec->order[spec->norder++] = t;
				spec->bang |= 1u << t;
			}
		}
		return 0;
	}
	/* Each type may be listed once, so this ends at the 9th item at the latest. */
	for (int index = 1;; index++) {
		const char *end = order + strcspn(order, ",");
		if (parse_item(order, end, index, &listed, spec, rec) < 0)
			return -1;
		if (*end == '\0')
			break;
		order = end + 1;
	}
	/* A variable the order leaves out is most likely a mistake in the order. */
	for (int t = 0; t < GONS_NTYPES; t++)
		if (spec->path[t] != NULL && !(listed & (1u << t)))
			return parse_fail(rec, GONS_CODE_NOT_IN_ORDER, t, "", 0);
	return 0;
}

/*
 * Reads the gons_* variables of env into spec, which must be zeroed.
 * Returns 0 when env holds none (the common case, kept to a scan), 1 when
 * spec holds what they ask for, possibly nothing, and -1 when they are
 * malformed and rec says why.
 */
int gons_parse(char *const *env, struct gons_spec *spec, struct gons_record *rec)
{
	const char *order = NULL;
	unsigned seen = 0;
	int found = 0;

	for (; *env != NULL; env++) {
		if (!is_gons(*env))
			continue;
		found = 1;
		if (parse_var(*env, spec, &order, &seen, rec) < 0)
			return -1;
	}
	if (!found)
		return 0;
	return parse_order(order, spec, rec) < 0 ? -1 : 1;
}

/*
 * Removes the gons_* entries from env in place. The kept entries move to
 * the front; the freed slots at the end point at an empty string, which
 * getenv(3) and Go's os.Environ skip. The NULL that ends env must stay in
 * its slot: Go finds the auxiliary vector right after it, and without it
 * falls back to /proc/self/auxv, which need not show this process after a
 * mnt or pid switch.
 */
void gons_strip(char **env)
{
	static char empty[] = "";
	char **keep = env;

	for (; *env != NULL; env++)
		if (!is_gons(*env))
			*keep++ = *env;
	while (keep < env)
		*keep++ = empty;
}
