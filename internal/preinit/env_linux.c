//go:build cgo

/*
 * Parsing of the gons_* environment variables, in place.
 *
 * This runs before the Go runtime and before anything of the program, so
 * it allocates nothing and calls nothing that might: it reads the strings
 * the kernel put on the stack and keeps pointers into them. It makes no
 * system calls either; the steps that follow do those (see gons.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "gons.h"

/*
 * The variables' names without "gons_"; the first GONS_NTYPES are the
 * namespace types. An array of arrays, not of pointers: no relocations.
 */
const char gons_var_names[GONS_NVARS][10] = {
	[GONS_CGROUP] = "cgroup",
	[GONS_IPC] = "ipc",
	[GONS_MNT] = "mnt",
	[GONS_NET] = "net",
	[GONS_PID] = "pid",
	[GONS_TIME] = "time",
	[GONS_USER] = "user",
	[GONS_UTS] = "uts",
	[GONS_VAR_ORDER] = "order",
	[GONS_VAR_TARGET] = "target",
	[GONS_VAR_TARGET_NS] = "target_ns",
	[GONS_VAR_UID] = "uid",
	[GONS_VAR_GID] = "gid",
	[GONS_VAR_WD] = "wd",
	[GONS_VAR_ROOT] = "root",
	[GONS_VAR_TARGET_FD] = "target_fd",
	[GONS_VAR_ERRORS] = "errors",
};

/*
 * The order without gons_order. user comes first because the other
 * namespaces may be owned by it and joining it grants the capabilities to
 * join them; pid comes last because joining it means a fork at the end.
 */
const int gons_default_order[GONS_NTYPES] = {
	GONS_USER, GONS_MNT, GONS_CGROUP, GONS_IPC, GONS_NET, GONS_UTS, GONS_TIME, GONS_PID,
};

#define ALL_TYPES ((1u << GONS_NTYPES) - 1)

/* Returns 1 when s begins with prefix, 0 otherwise. */
GONS_HOT static int has_prefix(const char *s, const char *prefix)
{
	while (*prefix != '\0')
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

/* Returns 1 when s begins with "gons_", 0 otherwise. The && stops at the NUL of a shorter s. */
GONS_HOT static int is_gons(const char *s)
{
	return s[0] == 'g' && s[1] == 'o' && s[2] == 'n' && s[3] == 's' && s[4] == '_';
}

/*
 * Returns 1 when s is a variable the constructor removes: a gons_* one, or
 * GONS_REEXEC_FD, which package reexec sets in its children. The first
 * byte decides for almost every variable of the environment.
 */
GONS_HOT static int is_ours(const char *s)
{
	return *s == 'g' ? is_gons(s) : *s == 'G' && has_prefix(s, "GONS_REEXEC_FD=");
}

/*
 * The string functions below stand in for the C library's on the way of a
 * switch: each of those costs this process a page fault the first time,
 * about as much as a system call.
 */

/* Returns the length of s, but at most max. */
GONS_HOT size_t gons_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

/* Copies src with its NUL to dst. Returns the end of dst, at its NUL. */
GONS_HOT char *gons_stpcpy(char *dst, const char *src)
{
	while ((*dst = *src++) != '\0')
		dst++;
	return dst;
}

GONS_COLD char *gons_utoa(char *dst, unsigned n)
{
	char digits[10];
	int i = 0;

	do
		digits[i++] = '0' + n % 10;
	while ((n /= 10) != 0);
	while (i > 0)
		*dst++ = digits[--i];
	return dst;
}

/* Returns the length of s up to its first c or its end. */
GONS_HOT static size_t span(const char *s, char c)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != c)
		n++;
	return n;
}

/* Returns the variable named by the len bytes at s among the first n, or -1. */
GONS_HOT static int var_of(const char *s, size_t len, int n)
{
	for (int v = 0; v < n; v++) {
		const char *name = gons_var_names[v];
		size_t i = 0;
		while (i < len && name[i] == s[i])
			i++;
		if (i == len && name[i] == '\0')
			return v;
	}
	return -1;
}

/*
 * Copies len bytes of src to dst, which holds size bytes, NUL-terminated.
 * What does not fit is cut off and marked with "...".
 */
GONS_COLD void gons_copy(char *dst, int size, const char *src, int len)
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
GONS_COLD void gons_fail(struct gons_record *rec, int op, int type, int err, const char *path)
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
		gons_copy(rec->path, sizeof(rec->path), path, gons_strnlen(path, sizeof(rec->path)));
}

/*
 * Records a parse failure with a code, the variable it concerns (or -1) and
 * a detail. Returns -1.
 */
GONS_COLD static int parse_fail(struct gons_record *rec, int code, int type, int var, const char *detail,
                                size_t len)
{
	gons_fail(rec, GONS_OP_PARSE, type, 0, NULL);
	rec->code = code;
	rec->other = var;
	gons_copy(rec->detail, sizeof(rec->detail), detail, len);
	return -1;
}

/*
 * Reads the len decimal digits at s into *n, which must not exceed max.
 * Returns 0, or -1 when s is empty, not all digits, or too large.
 */
static int parse_number(const char *s, size_t len, unsigned long long max, unsigned long long *n)
{
	*n = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9 || *n > (max - d) / 10)
			return -1;
		*n = *n * 10 + d;
	}
	return 0;
}

/* Reads all of s as parse_number does. */
static int parse_whole(const char *s, unsigned long long max, unsigned long long *n)
{
	return parse_number(s, span(s, '\0'), max, n);
}

/* Records that the value of variable v is not a number it takes. Returns -1. */
GONS_COLD static int bad_number(int v, const char *value, struct gons_record *rec)
{
	return parse_fail(rec, GONS_CODE_BAD_NUMBER, -1, v, value, gons_strnlen(value, GONS_DETAIL_MAX));
}

/*
 * Reads gons_target_fd's value into spec, as N + 1: 0, 1 and 2 are never
 * taken, for it is closed in the end. Returns 0, or -1 when it is no such
 * number.
 */
static int take_target_fd(const char *value, struct gons_spec *spec)
{
	unsigned long long n;

	if (parse_whole(value, 0x7ffffffe, &n) < 0 || n < 3)
		return -1;
	spec->target_fd = (int)n + 1;
	return 0;
}

/*
 * Reads the value of variable v into spec, or into values[] for the lists
 * and numbers parsed once all are known. Returns 0, or -1 with rec filled.
 */
GONS_HOT static int take_value(int v, const char *value, struct gons_spec *spec, const char **values,
                               struct gons_record *rec)
{
	/* Paths are used as they are, so they must fit what the kernel takes. */
	if ((v < GONS_NTYPES || v == GONS_VAR_WD || v == GONS_VAR_ROOT) &&
	    gons_strnlen(value, GONS_PATH_MAX) == GONS_PATH_MAX) {
		gons_fail(rec, GONS_OP_PARSE, v < GONS_NTYPES ? v : -1, ENAMETOOLONG, value);
		rec->code = GONS_CODE_PATH_TOO_LONG;
		rec->other = v;
		return -1;
	}
	if (v == GONS_VAR_TARGET_FD && take_target_fd(value, spec) < 0)
		return bad_number(v, value, rec);
	if (v == GONS_VAR_ERRORS) {
		/* The one value: the program reads status.Err() itself. */
		if (!has_prefix(value, "status") || value[6] != '\0')
			return bad_number(v, value, rec);
		spec->errors_status = 1;
	}
	if (v < GONS_NTYPES)
		spec->path[v] = value;
	else if (v == GONS_VAR_WD)
		spec->wd = value;
	else if (v == GONS_VAR_ROOT)
		spec->root = value;
	values[v] = value;
	return 0;
}

/*
 * Parses one variable; var points at its "gons_" prefix. seen has a bit for
 * each variable met before. Returns 0, or -1 with rec filled.
 */
GONS_HOT static int parse_var(const char *var, struct gons_spec *spec, const char **values, unsigned *seen,
                              struct gons_record *rec)
{
	const char *name = var + 5;
	size_t len = span(name, '=');
	const char *value = name[len] == '=' ? name + len + 1 : name + len;
	int v = var_of(name, len, GONS_NVARS);

	if (v < 0)
		return parse_fail(rec, GONS_CODE_UNKNOWN_VAR, -1, -1, var, len + 5);
	/* Two values for one variable: which one the caller meant is anyone's guess. */
	if (*seen & (1u << v))
		return parse_fail(rec, GONS_CODE_DUPLICATE_VAR, -1, v, var, len + 5);
	*seen |= 1u << v;
	/* Treat an empty value as an unset variable. */
	if (*value == '\0')
		return 0;
	return take_value(v, value, spec, values, rec);
}

GONS_HOT static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Parses the item of the list variable var from begin to end, the index-th
 * (from 1), into its type and *bang. Returns the type, or -1 with rec
 * filled. listed has a bit for each type listed before.
 */
GONS_HOT static int parse_item(int var, const char *begin, const char *end, int index, unsigned *listed,
                               int *bang, struct gons_record *rec)
{
	while (begin < end && is_blank(*begin))
		begin++;
	while (end > begin && is_blank(end[-1]))
		end--;
	if (begin == end) {
		parse_fail(rec, GONS_CODE_EMPTY_ITEM, -1, var, "", 0);
		rec->index = index;
		return -1;
	}
	/* "!" means something in gons_order only. */
	*bang = var == GONS_VAR_ORDER && *begin == '!';
	if (*bang && begin + 1 == end) {
		parse_fail(rec, GONS_CODE_BANG_ALONE, -1, var, "!", 1);
		rec->index = index;
		return -1;
	}
	int t = var_of(begin + *bang, end - begin - *bang, GONS_NTYPES);
	if (t < 0)
		return parse_fail(rec, GONS_CODE_UNKNOWN_TYPE, -1, var, begin, end - begin);
	if (*listed & (1u << t))
		return parse_fail(rec, GONS_CODE_DUPLICATE_TYPE, t, var, begin, end - begin);
	*listed |= 1u << t;
	return t;
}

/*
 * Parses the comma-separated list of types in the variable var, calling
 * add for each. Each type may be listed once, so this ends at the 9th item
 * at the latest. Returns the types listed as bits, or -1 with rec filled.
 */
GONS_HOT static long parse_list(int var, const char *list, struct gons_spec *spec, struct gons_record *rec,
                                void (*add)(struct gons_spec *, int, int))
{
	unsigned listed = 0;
	int bang;

	for (int index = 1;; index++) {
		const char *end = list + span(list, ',');
		int t = parse_item(var, list, end, index, &listed, &bang, rec);
		if (t < 0)
			return -1;
		add(spec, t, bang);
		if (*end == '\0')
			return listed;
		list = end + 1;
	}
}

/* Appends type t to the switch order if its variable is set. */
GONS_HOT static void add_to_order(struct gons_spec *spec, int t, int bang)
{
	/* An order may name types that are not asked for; they are skipped. */
	if (spec->path[t] == NULL)
		return;
	spec->order[spec->norder++] = t;
	if (bang)
		spec->bang |= 1u << t;
}

/* Adds type t to the types to join of the target. */
GONS_HOT static void add_to_target(struct gons_spec *spec, int t, int bang)
{
	(void)bang;
	spec->target_types |= 1u << t;
}

/*
 * Fills spec->order from gons_order, or from the default order when order
 * is NULL. Returns 0, or -1 with rec filled.
 */
GONS_HOT static int parse_order(const char *order, struct gons_spec *spec, struct gons_record *rec)
{
	if (order == NULL) {
		for (int i = 0; i < GONS_NTYPES; i++)
			add_to_order(spec, gons_default_order[i], 1);
		return 0;
	}
	long listed = parse_list(GONS_VAR_ORDER, order, spec, rec, add_to_order);
	if (listed < 0)
		return -1;
	/* A variable the order leaves out is most likely a mistake in the order. */
	for (int t = 0; t < GONS_NTYPES; t++)
		if (spec->path[t] != NULL && !(listed & (1u << t)))
			return parse_fail(rec, GONS_CODE_NOT_IN_ORDER, t, GONS_VAR_ORDER, "", 0);
	return 0;
}

/*
 * Parses gons_target, PID or PID:INODE, and gons_target_ns, and refuses
 * the variables that name namespaces another way. Returns 0, or -1 with
 * rec filled.
 */
GONS_HOT static int parse_target(const char **values, struct gons_spec *spec, struct gons_record *rec)
{
	const char *target = values[GONS_VAR_TARGET];
	unsigned long long n;

	if (target == NULL) {
		int v = values[GONS_VAR_TARGET_NS] != NULL   ? GONS_VAR_TARGET_NS
		        : values[GONS_VAR_TARGET_FD] != NULL ? GONS_VAR_TARGET_FD
		                                             : 0;
		if (v != 0)
			return parse_fail(rec, GONS_CODE_NO_TARGET, -1, v, "", 0);
		return 0;
	}
	/* Namespaces by path and by PID at once: which wins would be a guess. */
	for (int v = 0; v <= GONS_VAR_ORDER; v++)
		if (values[v] != NULL)
			return parse_fail(rec, GONS_CODE_CONFLICT, v < GONS_NTYPES ? v : -1, v, "", 0);
	size_t len = span(target, ':');
	if (parse_number(target, len, 0x7fffffff, &n) < 0 || n == 0)
		return bad_number(GONS_VAR_TARGET, target, rec);
	spec->target = (int)n;
	if (target[len] == ':') {
		if (parse_whole(target + len + 1, ~0ULL, &spec->inode) < 0 || spec->inode == 0)
			return bad_number(GONS_VAR_TARGET, target, rec);
	}
	spec->target_types = ALL_TYPES;
	if (values[GONS_VAR_TARGET_NS] != NULL) {
		spec->target_types = 0;
		if (parse_list(GONS_VAR_TARGET_NS, values[GONS_VAR_TARGET_NS], spec, rec, add_to_target) < 0)
			return -1;
	}
	return 0;
}

/*
 * Parses gons_uid and gons_gid: IDs in the namespace joined, up to
 * 4294967294 ((uid_t)-1 means "no change" to the kernel). Returns 0, or -1
 * with rec filled.
 */
GONS_HOT static int parse_ids(const char **values, struct gons_spec *spec, struct gons_record *rec)
{
	unsigned long long n;

	for (int v = GONS_VAR_UID; v <= GONS_VAR_GID; v++) {
		if (values[v] == NULL)
			continue;
		if (parse_whole(values[v], 0xfffffffe, &n) < 0)
			return bad_number(v, values[v], rec);
		*(v == GONS_VAR_UID ? &spec->set_uid : &spec->set_gid) = 1;
		*(v == GONS_VAR_UID ? &spec->uid : &spec->gid) = (unsigned)n;
	}
	return 0;
}

GONS_HOT int gons_present(char *const *env)
{
	/* The first byte, 'g' or 'G', inline: this is all a program without gons_* pays. */
	for (; *env != NULL; env++)
		if ((**env | 0x20) == 'g' && is_ours(*env))
			return 1;
	return 0;
}

int gons_reexec_fd(char *const *env)
{
	unsigned long long n;

	for (; *env != NULL; env++)
		if (**env == 'G' && has_prefix(*env, "GONS_REEXEC_FD="))
			return parse_whole(*env + 15, 0x7ffffffe, &n) < 0 ? -1 : (int)n;
	return -1;
}

/*
 * Reads GONS_REEXEC_FD's value into rec->reexec_fd, as N + 1. Returns 0, or
 * -1 with rec filled.
 */
static int parse_reexec_fd(const char *value, struct gons_record *rec)
{
	unsigned long long n;

	if (rec->reexec_fd != 0)
		return parse_fail(rec, GONS_CODE_DUPLICATE_VAR, -1, GONS_VAR_REEXEC_FD, "GONS_REEXEC_FD", 14);
	if (parse_whole(value, 0x7ffffffe, &n) < 0)
		return bad_number(GONS_VAR_REEXEC_FD, value, rec);
	rec->reexec_fd = (int)n + 1;
	return 0;
}

GONS_COLD int gons_target_fd_of(const char *s)
{
	struct gons_spec spec;

	return has_prefix(s, "gons_target_fd=") && take_target_fd(s + 15, &spec) == 0 ? spec.target_fd - 1
	                                                                              : -1;
}

/*
 * After a failure: reads from all of env what holds on every path, whatever
 * else is wrong: whether gons_uid or gons_gid asks for a privilege drop,
 * which then fails closed, and whether gons_errors=status lets the program
 * see the failure instead.
 */
GONS_COLD static void after_failure(char *const *env, struct gons_spec *spec)
{
	for (; *env != NULL; env++) {
		const char *s = *env;
		if ((has_prefix(s, "gons_uid=") || has_prefix(s, "gons_gid=")) && s[9] != '\0')
			spec->drop = 1;
		if (has_prefix(s, "gons_errors=status") && s[18] == '\0')
			spec->errors_status = 1;
	}
}

/*
 * Reads the gons_* variables of env into spec, which must be zeroed, and
 * GONS_REEXEC_FD into rec. Returns 0 when env holds no gons_* variable
 * (the common case, kept to a scan), 1 when spec holds what they ask for,
 * possibly nothing, and -1 when they or GONS_REEXEC_FD are malformed and
 * rec says why.
 */
GONS_HOT int gons_parse(char *const *env, struct gons_spec *spec, struct gons_record *rec)
{
	const char *values[GONS_NVARS] = { 0 };
	unsigned seen = 0;
	int found = 0;

	for (char *const *e = env; *e != NULL; e++) {
		if (!is_ours(*e))
			continue;
		int ret;
		if (**e == 'G') {
			ret = parse_reexec_fd(*e + 15, rec);
		} else {
			found = 1;
			ret = parse_var(*e, spec, values, &seen, rec);
		}
		if (ret < 0)
			goto fail;
	}
	if (!found)
		return 0;
	spec->drop = values[GONS_VAR_UID] != NULL || values[GONS_VAR_GID] != NULL;
	if (parse_target(values, spec, rec) < 0 || parse_ids(values, spec, rec) < 0)
		goto fail;
	if (spec->target == 0 && parse_order(values[GONS_VAR_ORDER], spec, rec) < 0)
		goto fail;
	return 1;
fail:
	after_failure(env, spec);
	return -1;
}

/*
 * Overwrites the value of the variable s with NULs. /proc/PID/environ shows
 * the strings where the kernel put them, whatever the array points at; it
 * then shows "gons_name=" and NULs, which, read back as an environment,
 * count as unset.
 */
GONS_HOT static void wipe(char *s)
{
	s += span(s, '=');
	if (*s != '\0')
		while (*++s != '\0')
			*s = '\0';
}

/*
 * Removes the gons_* entries from env in place and wipes their values. The
 * kept entries move to the end, in order; the freed slots in front point
 * at an empty string, which Go's os.Environ skips. The NULL that ends env
 * must stay in its slot: Go finds the auxiliary vector right after it, and
 * without it falls back to /proc/self/auxv, which need not show this
 * process after a mnt or pid switch. Returns the first kept slot, for
 * libc's environ, so that C children are passed no empty entries.
 */
GONS_HOT char **gons_strip(char **env)
{
	static char empty[] = "";
	char **keep = env;

	while (*keep != NULL)
		keep++;
	for (char **p = keep; p > env;) {
		char *s = *--p;
		if (is_ours(s))
			wipe(s);
		else
			*--keep = s;
	}
	for (char **p = env; p < keep; p++)
		*p = empty;
	return keep;
}
