/* The compiled scanner of a ResourceList: libyaml's events stay in C.
 *
 * One pass of libyaml's parser over the ResourceList finds every item of ``items``, reads its
 * head (apiVersion, kind, metadata name / namespace, the bookkeeping annotations), checks its
 * keys for duplicates (YAML 1.1 resolution, as scan._find_duplicate_key does) and builds Python
 * values only for the items the caller reads (``decide`` says what to build of each, the same
 * "keep" specs as build._Builder takes). No Python object is made for an event.
 *
 * The common case only: whenever the input holds something the pure-Python scanner treats
 * specially (an anchor, an alias, an explicit tag, a merge key, a duplicate or non-scalar key,
 * a non-mapping item, a flow-style ResourceList or non-empty ``items``, nesting deeper than the limit, an
 * item of more than ``max_events`` events, a parse error, a value that does not resolve),
 * ``scan_resource_list`` returns ``None`` and the caller runs the pure-Python scanner on the
 * whole input, which gives the answer (or the error) it always gave. The pure-Python scanner is
 * the definition; this is a faster way to the same Bundle (tests/acceptance/test_scanner_paths.py
 * runs the golden suite on both).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <yaml.h>

/* -- libyaml's allocations -------------------------------------------------------------------
 * libyaml allocates a block per token and per event text, some 800,000 of them for a 10k-item
 * bundle, each freed soon after: glibc's malloc and free were 6 % of a run's instructions.
 * libyaml's sources (libyaml/) are compiled into this extension, which setup.py links with
 * --wrap for malloc, calloc, realloc, free and strdup where the linker has it (GNU ld; libyaml
 * duplicates tag directives with strdup), so its blocks come
 * from here: small ones from free lists by size class (16 bytes apart, up to 496 bytes), kept
 * for reuse; larger ones from malloc. Every call into libyaml holds the GIL: no locking. A block
 * carries a 16-byte header with its class (0: from malloc), so any block is freed right. */
#ifdef MHR_WRAP_MALLOC
#define SMALL_CLASSES 32 /* class c: 16 * c usable bytes, c = 1 .. 31 */
#define SLAB (64 * 1024)
#define HEADER 16

/* hidden: what --wrap links here is this module's own, never exported to other libraries */
#define WRAPPED __attribute__((visibility("hidden")))
void *__real_malloc(size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
WRAPPED void *__wrap_malloc(size_t size);
WRAPPED void *__wrap_calloc(size_t count, size_t size);
WRAPPED void *__wrap_realloc(void *ptr, size_t size);
WRAPPED void __wrap_free(void *ptr);
WRAPPED char *__wrap_strdup(const char *text);

static void *free_blocks[SMALL_CLASSES];
static char *slab_next, *slab_end;

void *__wrap_malloc(size_t size) {
    size_t c = (size + 15) >> 4;
    if (c == 0) c = 1;
    char *block;
    if (c < SMALL_CLASSES) {
        block = free_blocks[c];
        if (block) {
            free_blocks[c] = *(void **)(block + HEADER);
        } else {
            size_t need = HEADER + (c << 4);
            if (!slab_next || (size_t)(slab_end - slab_next) < need) {
                slab_next = __real_malloc(SLAB); /* the rest of the old slab stays unused */
                if (!slab_next) return NULL;
                slab_end = slab_next + SLAB;
            }
            block = slab_next;
            slab_next += need;
        }
    } else {
        block = __real_malloc(HEADER + size);
        if (!block) return NULL;
        c = 0;
    }
    *(size_t *)block = c;
    return block + HEADER;
}

void __wrap_free(void *ptr) {
    if (!ptr) return;
    char *block = (char *)ptr - HEADER;
    size_t c = *(size_t *)block;
    if (c == 0) {
        __real_free(block);
        return;
    }
    *(void **)ptr = free_blocks[c];
    free_blocks[c] = block;
}

void *__wrap_calloc(size_t count, size_t size) {
    if (size && count > (size_t)-1 / size) return NULL;
    void *ptr = __wrap_malloc(count * size);
    if (ptr) memset(ptr, 0, count * size);
    return ptr;
}

void *__wrap_realloc(void *ptr, size_t size) {
    if (!ptr) return __wrap_malloc(size);
    char *block = (char *)ptr - HEADER;
    size_t c = *(size_t *)block;
    if (c == 0) {
        if (size < (SMALL_CLASSES << 4)) size = SMALL_CLASSES << 4; /* stays a malloc block */
        block = __real_realloc(block, HEADER + size);
        return block ? block + HEADER : NULL;
    }
    if (size <= (c << 4)) return ptr;
    void *grown = __wrap_malloc(size);
    if (!grown) return NULL;
    memcpy(grown, ptr, c << 4);
    __wrap_free(ptr);
    return grown;
}

char *__wrap_strdup(const char *text) {
    size_t size = strlen(text) + 1;
    char *copy = __wrap_malloc(size);
    if (copy) memcpy(copy, text, size);
    return copy;
}
#endif /* MHR_WRAP_MALLOC */

/* The result of a step: go on, hand the input to the pure-Python scanner, or a Python error. */
#define OK 0
#define FALLBACK 1
#define ERROR (-1)

typedef struct {
    yaml_parser_t parser;
    yaml_event_t *ev; /* the events of the node being read */
    Py_ssize_t n, cap;
    int depth; /* open collections, counted as _Events counts them */
    int max_depth;
    Py_ssize_t max_events;
    PyObject *resolve;     /* plain scalar text -> value (raises on a bad value) */
    PyObject *resolve_key; /* plain scalar text -> the key a reader holds */
    PyObject *cache;       /* plain scalar text -> resolved value (immutable values only) */
    PyObject *shared;      /* leaf values shared across the bundle (build._Builder._share) */
    Py_ssize_t shared_max;
    struct TextSlot *texts; /* short ASCII scalars made already (short_text) */
    struct Frame *frames;   /* check_keys' stack */
    PyObject *keeps;        /* per keep predicate: key -> its answer (keep_key) */
} Ctx;

/* Keys and short values repeat throughout a bundle (apiVersion, metadata, name, ports...):
 * each text is made a str and interned once, not once per occurrence. */
#define TEXT_SLOTS 4096
#define TEXT_MAX 48
typedef struct TextSlot {
    PyObject *s;
    unsigned long hash;
} TextSlot;

typedef struct {
    const char *s;
    Py_ssize_t len;
    unsigned long hash;
} Key;

typedef struct Frame {
    int is_map;
    int key_next;
    Key *keys;
    Py_ssize_t nkeys, capkeys;
    PyObject *objkeys; /* keys that resolve to something other than a string */
    /* a large mapping's keys by hash (positions + 1; 0 empty): a lookup stays O(1) */
    Py_ssize_t *index, index_cap;
} Frame;

#define INDEX_FROM 32 /* keys: fewer are compared one by one */

/* Whether the mapping has a key s[:len] of hash h already; adds it if not (-1: no memory). */
static int seen_key(Frame *top, const char *s, Py_ssize_t len, unsigned long h) {
    if (top->nkeys < INDEX_FROM) {
        for (Py_ssize_t k = 0; k < top->nkeys; k++) {
            Key *other = &top->keys[k];
            if (other->hash == h && other->len == len && memcmp(other->s, s, (size_t)len) == 0)
                return 1;
        }
    } else {
        if (top->nkeys * 2 >= top->index_cap) { /* (re)build at half load */
            Py_ssize_t cap = top->index_cap ? top->index_cap * 2 : INDEX_FROM * 4;
            Py_ssize_t *index = PyMem_Calloc((size_t)cap, sizeof(Py_ssize_t));
            if (!index) return -1;
            for (Py_ssize_t k = 0; k < top->nkeys; k++) {
                Py_ssize_t at = (Py_ssize_t)(top->keys[k].hash & (unsigned long)(cap - 1));
                while (index[at]) at = (at + 1) & (cap - 1);
                index[at] = k + 1;
            }
            PyMem_Free(top->index);
            top->index = index;
            top->index_cap = cap;
        }
        Py_ssize_t at = (Py_ssize_t)(h & (unsigned long)(top->index_cap - 1));
        for (; top->index[at]; at = (at + 1) & (top->index_cap - 1)) {
            Key *other = &top->keys[top->index[at] - 1];
            if (other->hash == h && other->len == len && memcmp(other->s, s, (size_t)len) == 0)
                return 1;
        }
        top->index[at] = top->nkeys + 1; /* the key appended below */
    }
    if (top->nkeys == top->capkeys) {
        Py_ssize_t cap = top->capkeys ? top->capkeys * 2 : 16;
        Key *keys = PyMem_Realloc(top->keys, (size_t)cap * sizeof(Key));
        if (!keys) return -1;
        top->keys = keys;
        top->capkeys = cap;
    }
    top->keys[top->nkeys++] = (Key){s, len, h};
    return 0;
}

static void clear_events(Ctx *c) {
    for (Py_ssize_t i = 0; i < c->n; i++) yaml_event_delete(&c->ev[i]);
    c->n = 0;
}

/* The next event into *out; FALLBACK on a parse error or anything the fast path leaves alone. */
static int next_event(Ctx *c, yaml_event_t *out) {
    if (!yaml_parser_parse(&c->parser, out)) return FALLBACK;
    switch (out->type) {
    case YAML_ALIAS_EVENT:
        yaml_event_delete(out);
        return FALLBACK;
    case YAML_SCALAR_EVENT:
        if (out->data.scalar.anchor || out->data.scalar.tag) goto unusual;
        break;
    case YAML_SEQUENCE_START_EVENT:
        if (out->data.sequence_start.anchor || out->data.sequence_start.tag) goto unusual;
        if (++c->depth > c->max_depth) goto unusual;
        break;
    case YAML_MAPPING_START_EVENT:
        if (out->data.mapping_start.anchor || out->data.mapping_start.tag) goto unusual;
        if (++c->depth > c->max_depth) goto unusual;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        c->depth--;
        break;
    default:
        break;
    }
    return OK;
unusual:
    yaml_event_delete(out);
    return FALLBACK;
}

static int push(Ctx *c, yaml_event_t *e) {
    if (c->n == c->cap) {
        Py_ssize_t cap = c->cap ? c->cap * 2 : 1024;
        yaml_event_t *ev = PyMem_Realloc(c->ev, (size_t)cap * sizeof(yaml_event_t));
        if (!ev) {
            yaml_event_delete(e);
            PyErr_NoMemory();
            return ERROR;
        }
        c->ev = ev;
        c->cap = cap;
    }
    c->ev[c->n++] = *e;
    return OK;
}

static int is_start(const yaml_event_t *e) {
    return e->type == YAML_MAPPING_START_EVENT || e->type == YAML_SEQUENCE_START_EVENT;
}

static int is_end(const yaml_event_t *e) {
    return e->type == YAML_MAPPING_END_EVENT || e->type == YAML_SEQUENCE_END_EVENT;
}

/* The events of the node starting with *first (already read) into c->ev. */
static int collect(Ctx *c, yaml_event_t *first, Py_ssize_t limit) {
    clear_events(c);
    int start = is_start(first);
    if (push(c, first) != OK) return ERROR;
    if (!start) return OK;
    int level = 1;
    while (level) {
        yaml_event_t e;
        int r = next_event(c, &e);
        if (r != OK) return r;
        if (is_start(&e)) level++;
        else if (is_end(&e)) level--;
        if (push(c, &e) != OK) return ERROR;
        if (limit > 0 && c->n > limit) return FALLBACK;
    }
    return OK;
}

static Py_ssize_t skip(const Ctx *c, Py_ssize_t pos) {
    int level = 0;
    for (;;) {
        const yaml_event_t *e = &c->ev[pos];
        if (is_start(e)) level++;
        else if (is_end(e)) level--;
        pos++;
        if (level <= 0) return pos;
    }
}

static int eq(const yaml_event_t *e, const char *s) {
    size_t len = strlen(s);
    return e->type == YAML_SCALAR_EVENT && e->data.scalar.length == len &&
           memcmp(e->data.scalar.value, s, len) == 0;
}

static PyObject *text_of(const yaml_event_t *e) {
    return PyUnicode_DecodeUTF8((const char *)e->data.scalar.value,
                                (Py_ssize_t)e->data.scalar.length, "strict");
}

/* A scalar's text as a str: a short ASCII one interned, and the same object each time it
 * repeats (a new reference); a long or non-ASCII one made anew (not interned). */
static PyObject *short_text(Ctx *c, const yaml_event_t *e) {
    const unsigned char *s = e->data.scalar.value;
    size_t len = e->data.scalar.length;
    if (!c->texts || len > TEXT_MAX) return text_of(e);
    unsigned long h = 1469598103934665603UL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        if (s[i] & 0x80) return text_of(e);
        h = (h ^ s[i]) * 1099511628211UL;
    }
    TextSlot *slot = &c->texts[h & (TEXT_SLOTS - 1)];
    if (slot->s && slot->hash == h && (size_t)PyUnicode_GET_LENGTH(slot->s) == len &&
        memcmp(PyUnicode_1BYTE_DATA(slot->s), s, len) == 0)
        return Py_NewRef(slot->s);
    PyObject *out = PyUnicode_New((Py_ssize_t)len, 127);
    if (!out) return NULL;
    memcpy(PyUnicode_1BYTE_DATA(out), s, len);
    PyUnicode_InternInPlace(&out);
    Py_XSETREF(slot->s, Py_NewRef(out));
    slot->hash = h;
    return out;
}

static void free_texts(Ctx *c) {
    if (!c->texts) return;
    for (int i = 0; i < TEXT_SLOTS; i++) Py_XDECREF(c->texts[i].s);
    PyMem_Free(c->texts);
    c->texts = NULL;
}

/* Whether PyYAML's YAML 1.1 resolver could read this plain scalar as something other than a
 * string (the first characters of yaml.resolver.Resolver.yaml_implicit_resolvers, and for
 * letters the words of the bool and null expressions). tests/unit/yamlio/test_cscan.py checks
 * the table against the resolver. */
static const char *const WORDS[] = {
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", NULL};

static int may_resolve(const char *s, size_t len) {
    if (len == 0) return 1;
    char ch = s[0];
    if (strchr("-+0123456789.<~=!&*", ch)) return 1;
    if (!strchr("yYnNtTfFoO", ch) || len > 5) return 0;
    for (const char *const *w = WORDS; *w; w++)
        if (strlen(*w) == len && memcmp(*w, s, len) == 0) return 1;
    return 0;
}

static int may_resolve_key_word(const char *s, size_t len) { return may_resolve(s, len); }

static unsigned long hash_bytes(const char *s, Py_ssize_t len) {
    unsigned long h = 1469598103934665603UL;
    for (Py_ssize_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211UL;
    return h;
}

static void free_frames(Frame *frames, int sp) {
    for (int i = 0; i < sp; i++) {
        PyMem_Free(frames[i].keys);
        PyMem_Free(frames[i].index);
        Py_XDECREF(frames[i].objkeys);
    }
}

/* scan._find_duplicate_key over c->ev, plus: every key a scalar, no '<<' key. */
static int check_keys(Ctx *c) {
    /* one zeroed stack for the whole scan (a frame is zeroed again when popped) */
    if (!c->frames && !(c->frames = PyMem_Calloc((size_t)c->max_depth + 4, sizeof(Frame)))) {
        PyErr_NoMemory();
        return ERROR;
    }
    Frame *frames = c->frames;
    int sp = 0, result = OK;
    for (Py_ssize_t i = 0; i < c->n; i++) {
        const yaml_event_t *e = &c->ev[i];
        if (is_end(e)) {
            sp--;
            PyMem_Free(frames[sp].keys);
            PyMem_Free(frames[sp].index);
            Py_XDECREF(frames[sp].objkeys);
            memset(&frames[sp], 0, sizeof(Frame));
            if (sp > 0 && frames[sp - 1].is_map) frames[sp - 1].key_next ^= 1;
            continue;
        }
        Frame *top = sp > 0 ? &frames[sp - 1] : NULL;
        if (top && top->is_map) {
            if (top->key_next) {
                if (e->type != YAML_SCALAR_EVENT) {
                    result = FALLBACK;
                    goto done;
                }
                const char *s = (const char *)e->data.scalar.value;
                Py_ssize_t len = (Py_ssize_t)e->data.scalar.length;
                if (len == 2 && s[0] == '<' && s[1] == '<') {
                    result = FALLBACK;
                    goto done;
                }
                int as_text = 1;
                if (e->data.scalar.plain_implicit && may_resolve_key_word(s, (size_t)len)) {
                    PyObject *text = text_of(e);
                    if (!text) {
                        result = ERROR;
                        goto done;
                    }
                    PyObject *key = PyObject_CallOneArg(c->resolve_key, text);
                    Py_DECREF(text);
                    if (!key) {
                        result = ERROR;
                        goto done;
                    }
                    if (!PyUnicode_Check(key)) {
                        as_text = 0;
                        if (!top->objkeys && !(top->objkeys = PySet_New(NULL))) {
                            Py_DECREF(key);
                            result = ERROR;
                            goto done;
                        }
                        int has = PySet_Contains(top->objkeys, key);
                        if (has == 0) has = PySet_Add(top->objkeys, key) < 0 ? -1 : 0;
                        Py_DECREF(key);
                        if (has != 0) {
                            result = has < 0 ? ERROR : FALLBACK;
                            goto done;
                        }
                    } else {
                        Py_DECREF(key);
                    }
                }
                if (as_text) {
                    int has = seen_key(top, s, len, hash_bytes(s, len));
                    if (has) {
                        if (has < 0) PyErr_NoMemory();
                        /* a duplicate key: the Python scan reports it */
                        result = has < 0 ? ERROR : FALLBACK;
                        goto done;
                    }
                }
            }
            if (!is_start(e)) top->key_next ^= 1;
        }
        if (is_start(e)) {
            frames[sp].is_map = e->type == YAML_MAPPING_START_EVENT;
            frames[sp].key_next = frames[sp].is_map;
            sp++;
        }
    }
done:
    free_frames(frames, sp);
    memset(frames, 0, (size_t)sp * sizeof(Frame));
    return result;
}

/* -- values ---------------------------------------------------------------------------------- */

static PyObject *scalar_value(Ctx *c, const yaml_event_t *e) {
    PyObject *s = short_text(c, e);
    if (!s || !e->data.scalar.plain_implicit) return s; /* quoted or block: a string */
    if (!may_resolve((const char *)e->data.scalar.value, e->data.scalar.length)) return s;
    PyObject *hit = PyDict_GetItemWithError(c->cache, s);
    if (hit) {
        Py_INCREF(hit);
        Py_DECREF(s);
        return hit;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(s);
        return NULL;
    }
    PyObject *value = PyObject_CallOneArg(c->resolve, s);
    if (value && PyDict_GET_SIZE(c->cache) < 65536 && PyDict_SetItem(c->cache, s, value) < 0)
        Py_CLEAR(value);
    Py_DECREF(s);
    return value;
}

static PyObject *types_of(PyObject *seq) { /* tuple(map(type, seq)) for a list or tuple */
    PyObject *fast = PySequence_Fast(seq, "not a sequence");
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject *out = PyTuple_New(n);
    if (out) {
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *t = (PyObject *)Py_TYPE(PySequence_Fast_GET_ITEM(fast, i));
            Py_INCREF(t);
            PyTuple_SET_ITEM(out, i, t);
        }
    }
    Py_DECREF(fast);
    return out;
}

/* build._Builder._share: one instance per distinct leaf (steals value, returns a new ref). */
static PyObject *share(Ctx *c, PyObject *value) {
    if (PyDict_GET_SIZE(c->shared) >= c->shared_max) PyDict_Clear(c->shared);
    PyObject *entries = NULL, *vtypes = NULL, *ktypes = NULL, *key = NULL, *out = NULL;
    if (PyList_CheckExact(value)) {
        entries = PyList_AsTuple(value);
        vtypes = entries ? types_of(value) : NULL;
        ktypes = PyTuple_New(0);
    } else {
        PyObject *items = PyDict_Items(value), *values = PyDict_Values(value),
                 *keys = PyDict_Keys(value);
        if (items && values && keys) {
            entries = PyList_AsTuple(items);
            vtypes = types_of(values);
            ktypes = types_of(keys);
        }
        Py_XDECREF(items);
        Py_XDECREF(values);
        Py_XDECREF(keys);
    }
    if (entries && vtypes && ktypes) key = PyTuple_Pack(3, entries, vtypes, ktypes);
    if (key) {
        out = PyDict_SetDefault(c->shared, key, value);
        Py_XINCREF(out);
    }
    Py_XDECREF(entries);
    Py_XDECREF(vtypes);
    Py_XDECREF(ktypes);
    Py_XDECREF(key);
    Py_DECREF(value);
    return out;
}

static int is_container(PyObject *v) { return PyDict_CheckExact(v) || PyList_CheckExact(v); }

/* build._Builder.build for the events at *pos (keep: NULL for everything, a dict, or a
 * predicate on keys). */
/* keep(key) of a predicate "keep": a function of the key alone (what build._Builder takes), so
 * each key is asked once per scan (annotation keys repeat on every item). 1, 0, -1 error. */
static int keep_key(Ctx *c, PyObject *keep, PyObject *key) {
    PyObject *known = NULL;
    if (c->keeps) {
        known = PyDict_GetItemWithError(c->keeps, keep);
        if (!known && PyErr_Occurred()) return -1;
        if (!known) {
            PyObject *fresh = PyDict_New();
            if (!fresh || PyDict_SetItem(c->keeps, keep, fresh) < 0) {
                Py_XDECREF(fresh);
                return -1;
            }
            Py_DECREF(fresh); /* held by c->keeps */
            known = fresh;
        }
        PyObject *hit = PyDict_GetItemWithError(known, key);
        if (hit) return hit == Py_True;
        if (PyErr_Occurred()) return -1;
    }
    PyObject *r = PyObject_CallOneArg(keep, key);
    int truth = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    if (truth >= 0 && known && PyDict_GET_SIZE(known) < 4096 &&
        PyDict_SetItem(known, key, truth ? Py_True : Py_False) < 0)
        return -1;
    return truth;
}

static PyObject *build(Ctx *c, Py_ssize_t *pos, PyObject *keep) {
    const yaml_event_t *e = &c->ev[*pos];
    if (e->type == YAML_SCALAR_EVENT) {
        (*pos)++;
        PyObject *v = scalar_value(c, e);
        if (v && PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) <= TEXT_MAX &&
            !PyUnicode_CHECK_INTERNED(v))
            PyUnicode_InternInPlace(&v); /* non-ASCII: short_text makes it anew */
        return v;
    }
    int leaf = c->shared != NULL;
    if (e->type == YAML_SEQUENCE_START_EVENT) {
        PyObject *entry_keep = keep && PyDict_Check(keep) ? keep : NULL;
        PyObject *seq = PyList_New(0);
        if (!seq) return NULL;
        (*pos)++;
        while (c->ev[*pos].type != YAML_SEQUENCE_END_EVENT) {
            PyObject *v = build(c, pos, entry_keep);
            if (!v || PyList_Append(seq, v) < 0) {
                Py_XDECREF(v);
                Py_DECREF(seq);
                return NULL;
            }
            if (leaf && is_container(v)) leaf = 0;
            Py_DECREF(v);
        }
        (*pos)++;
        return leaf ? share(c, seq) : seq;
    }
    /* a mapping */
    PyObject *map = PyDict_New();
    if (!map) return NULL;
    (*pos)++;
    while (c->ev[*pos].type != YAML_MAPPING_END_EVENT) {
        PyObject *key = build(c, pos, NULL);
        if (!key) goto fail;
        PyObject *child = NULL;
        if (keep && PyDict_Check(keep)) {
            PyObject *spec = PyDict_GetItemWithError(keep, key);
            if (!spec) {
                Py_DECREF(key);
                if (PyErr_Occurred()) goto fail;
                *pos = skip(c, *pos);
                continue;
            }
            child = spec == Py_True ? NULL : spec;
        } else if (keep) {
            int truth = keep_key(c, keep, key);
            if (truth <= 0) {
                Py_DECREF(key);
                if (truth < 0) goto fail;
                *pos = skip(c, *pos);
                continue;
            }
        }
        PyObject *value = build(c, pos, child);
        if (!value) {
            Py_DECREF(key);
            goto fail;
        }
        if (PyUnicode_CheckExact(key) && !PyUnicode_CHECK_INTERNED(key))
            PyUnicode_InternInPlace(&key);
        int r = PyDict_SetItem(map, key, value);
        Py_DECREF(key);
        if (leaf && is_container(value)) leaf = 0;
        Py_DECREF(value);
        if (r < 0) goto fail;
    }
    (*pos)++;
    return leaf ? share(c, map) : map;
fail:
    Py_DECREF(map);
    return NULL;
}

/* -- items ----------------------------------------------------------------------------------- */

/* Offset of the end of the node's last scalar or flow-collection end (scan._content_end before
 * the trailing blanks are stripped, which the caller does on the text). */
static Py_ssize_t raw_content_end(const Ctx *c) {
    for (Py_ssize_t i = c->n - 1; i >= 0; i--) {
        const yaml_event_t *e = &c->ev[i];
        if (e->type == YAML_SCALAR_EVENT ||
            (is_end(e) && e->end_mark.index - e->start_mark.index == 1))
            return (Py_ssize_t)e->end_mark.index;
    }
    return 0;
}

/* scan._head: apiVersion, kind, name, namespace and the bookkeeping annotations. */
static int head(Ctx *c, PyObject **api, PyObject **kind, PyObject **name, PyObject **ns,
                PyObject *kept, PyObject *bookkeeping) {
    const yaml_event_t *ev = c->ev;
    const yaml_event_t *api_e = NULL, *kind_e = NULL, *name_e = NULL, *ns_e = NULL;
    Py_ssize_t pos = 1;
    while (ev[pos].type != YAML_MAPPING_END_EVENT) {
        const yaml_event_t *key = &ev[pos], *value = &ev[pos + 1];
        pos++;
        if (eq(key, "metadata") && value->type == YAML_MAPPING_START_EVENT) {
            pos++;
            while (ev[pos].type != YAML_MAPPING_END_EVENT) {
                const yaml_event_t *mkey = &ev[pos], *mval = &ev[pos + 1];
                pos++;
                if (mval->type == YAML_SCALAR_EVENT) {
                    if (eq(mkey, "name")) name_e = mval;
                    else if (eq(mkey, "namespace")) ns_e = mval;
                } else if (eq(mkey, "annotations") && mval->type == YAML_MAPPING_START_EVENT) {
                    pos++;
                    while (ev[pos].type != YAML_MAPPING_END_EVENT) {
                        const yaml_event_t *akey = &ev[pos], *aval = &ev[pos + 1];
                        if (aval->type != YAML_SCALAR_EVENT) {
                            pos = skip(c, skip(c, pos));
                            continue;
                        }
                        pos += 2;
                        Py_ssize_t nbk = PyTuple_GET_SIZE(bookkeeping);
                        for (Py_ssize_t b = 0; b < nbk; b++) {
                            PyObject *bk = PyTuple_GET_ITEM(bookkeeping, b);
                            Py_ssize_t blen;
                            const char *bs = PyUnicode_AsUTF8AndSize(bk, &blen);
                            if (!bs) return ERROR;
                            if ((Py_ssize_t)akey->data.scalar.length == blen &&
                                memcmp(akey->data.scalar.value, bs, (size_t)blen) == 0) {
                                PyObject *v = text_of(aval);
                                if (!v) return ERROR;
                                PyUnicode_InternInPlace(&v);
                                int r = PyDict_SetItem(kept, bk, v);
                                Py_DECREF(v);
                                if (r < 0) return ERROR;
                                break;
                            }
                        }
                    }
                    pos++;
                    continue;
                }
                pos = skip(c, pos);
            }
            pos++;
            continue;
        }
        if (value->type == YAML_SCALAR_EVENT) {
            if (eq(key, "apiVersion")) api_e = value;
            else if (eq(key, "kind")) kind_e = value;
        }
        pos = skip(c, pos);
    }
    *api = api_e ? text_of(api_e) : PyUnicode_FromStringAndSize("", 0);
    *kind = kind_e ? text_of(kind_e) : PyUnicode_FromStringAndSize("", 0);
    *name = name_e ? text_of(name_e) : PyUnicode_FromStringAndSize("", 0);
    *ns = ns_e ? text_of(ns_e) : PyUnicode_FromStringAndSize("", 0);
    if (!*api || !*kind || !*name || !*ns) return ERROR;
    return OK;
}

/* (key column, offset of the first entry) of each non-empty block sequence that follows a
 * scalar: what scan._detect_wide looks at. */
static PyObject *wide_candidates(const Ctx *c) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (Py_ssize_t i = 1; i + 1 < c->n; i++) {
        const yaml_event_t *e = &c->ev[i];
        if (e->type == YAML_SEQUENCE_START_EVENT &&
            e->data.sequence_start.style != YAML_FLOW_SEQUENCE_STYLE &&
            c->ev[i - 1].type == YAML_SCALAR_EVENT && c->ev[i + 1].type != YAML_SEQUENCE_END_EVENT) {
            PyObject *pair = Py_BuildValue("(nn)", (Py_ssize_t)c->ev[i - 1].start_mark.column,
                                           (Py_ssize_t)c->ev[i + 1].start_mark.index);
            if (!pair || PyList_Append(out, pair) < 0) {
                Py_XDECREF(pair);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(pair);
        }
    }
    return out;
}

/* One item in c->ev: (start, raw end, apiVersion, kind, name, namespace, kept annotations,
 * value or None, wide candidates or None). */
static int item(Ctx *c, PyObject *decide, PyObject *bookkeeping, PyObject **out) {
    const yaml_event_t *first = &c->ev[0];
    if (first->type != YAML_MAPPING_START_EVENT) return FALLBACK;
    int r = check_keys(c);
    if (r != OK) return r;
    PyObject *api = NULL, *kind = NULL, *name = NULL, *ns = NULL, *kept = PyDict_New();
    PyObject *spec = NULL, *value = NULL, *wide = NULL;
    if (!kept) return ERROR;
    r = head(c, &api, &kind, &name, &ns, kept, bookkeeping);
    if (r != OK) goto done;
    Py_ssize_t start = (Py_ssize_t)first->start_mark.index, end = raw_content_end(c);
    spec = PyObject_CallFunction(decide, "nnOO", start, end, api, kind);
    if (!spec) {
        r = ERROR;
        goto done;
    }
    if (spec != Py_False) {
        Py_ssize_t pos = 0;
        value = build(c, &pos, spec == Py_True ? NULL : spec);
        wide = value ? wide_candidates(c) : NULL;
        if (!value || !wide) {
            r = ERROR;
            goto done;
        }
    }
    *out = Py_BuildValue("(nnOOOOOOO)", start, end, api, kind, name, ns, kept,
                         value ? value : Py_None, wide ? wide : Py_None);
    r = *out ? OK : ERROR;
done:
    Py_XDECREF(api);
    Py_XDECREF(kind);
    Py_XDECREF(name);
    Py_XDECREF(ns);
    Py_XDECREF(kept);
    Py_XDECREF(spec);
    Py_XDECREF(value);
    Py_XDECREF(wide);
    return r;
}

static int null_scalar(const yaml_event_t *e) {
    return e->type == YAML_SCALAR_EVENT && e->data.scalar.plain_implicit &&
           (e->data.scalar.length == 0 || eq(e, "~") || eq(e, "null"));
}

/* The top-level entries of the ResourceList. */
static int body(Ctx *c, PyObject *decide, PyObject *bookkeeping, PyObject *entries) {
    for (;;) {
        yaml_event_t key;
        int r = next_event(c, &key);
        if (r != OK) return r;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            return OK;
        }
        if (key.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&key);
            return FALLBACK;
        }
        PyObject *name = text_of(&key);
        Py_ssize_t key_end = (Py_ssize_t)key.end_mark.index;
        yaml_event_delete(&key);
        if (!name) return ERROR;
        yaml_event_t value;
        r = next_event(c, &value);
        if (r != OK) {
            Py_DECREF(name);
            return r;
        }
        int is_items = PyUnicode_CompareWithASCIIString(name, "items") == 0;
        int is_results = PyUnicode_CompareWithASCIIString(name, "results") == 0;
        PyObject *entry = NULL;
        if (is_items) {
            if (value.type != YAML_SEQUENCE_START_EVENT) {
                yaml_event_delete(&value);
                Py_DECREF(name);
                return FALLBACK;
            }
            /* flow items: only an empty list here (entries would be laid out again) */
            int items_flow = value.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
            yaml_event_delete(&value);
            PyObject *items = PyList_New(0);
            if (!items) {
                Py_DECREF(name);
                return ERROR;
            }
            for (;;) {
                yaml_event_t first;
                r = next_event(c, &first);
                if (r != OK) break;
                if (first.type == YAML_SEQUENCE_END_EVENT) {
                    entry = Py_BuildValue("(OnNO)", name, (Py_ssize_t)first.end_mark.index, items,
                                          items_flow ? Py_True : Py_False);
                    items = NULL;
                    yaml_event_delete(&first);
                    r = entry ? OK : ERROR;
                    break;
                }
                if (items_flow) {
                    yaml_event_delete(&first);
                    r = FALLBACK;
                    break;
                }
                r = collect(c, &first, c->max_events);
                PyObject *it = NULL;
                if (r == OK) r = item(c, decide, bookkeeping, &it);
                clear_events(c);
                if (r != OK) break;
                r = PyList_Append(items, it) < 0 ? ERROR : OK;
                Py_DECREF(it);
                if (r != OK) break;
            }
            Py_XDECREF(items);
        } else {
            int is_seq = value.type == YAML_SEQUENCE_START_EVENT;
            int flow = (is_seq && value.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE) ||
                       (value.type == YAML_MAPPING_START_EVENT &&
                        value.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE);
            if (is_results && !is_seq && !null_scalar(&value)) {
                yaml_event_delete(&value);
                Py_DECREF(name);
                return FALLBACK; /* the Python scan reports it */
            }
            r = collect(c, &value, 0);
            if (r == OK) {
                Py_ssize_t vstart = (Py_ssize_t)c->ev[0].start_mark.index;
                Py_ssize_t first_child = c->n > 1 ? (Py_ssize_t)c->ev[1].start_mark.index : -1;
                PyObject *scalar = c->ev[0].type == YAML_SCALAR_EVENT ? text_of(&c->ev[0])
                                                                      : Py_NewRef(Py_None);
                PyObject *built = Py_NewRef(Py_None);
                int is_config = PyUnicode_CompareWithASCIIString(name, "functionConfig") == 0;
                if (is_config && (r = check_keys(c)) != OK) {
                    Py_XDECREF(scalar);
                    Py_DECREF(built);
                    clear_events(c);
                    Py_DECREF(name);
                    return r;
                }
                if (scalar && is_config) {
                    PyObject *shared = c->shared;
                    Py_ssize_t pos = 0;
                    c->shared = NULL; /* build._Builder(anchors) without sharing */
                    Py_DECREF(built);
                    built = build(c, &pos, NULL);
                    c->shared = shared;
                }
                if (scalar && built)
                    entry = Py_BuildValue("(OnniinnOO)", name, key_end, vstart, is_seq, flow,
                                          raw_content_end(c), first_child, scalar, built);
                Py_XDECREF(scalar);
                Py_XDECREF(built);
                r = entry ? OK : ERROR;
            }
            clear_events(c);
        }
        Py_DECREF(name);
        if (r != OK) return r;
        r = PyList_Append(entries, entry) < 0 ? ERROR : OK;
        Py_DECREF(entry);
        if (r != OK) return r;
    }
}

/* The UTF-8 bytes of ``text``: an ASCII str's own data (no copy), else a copy in *utf8 (a new
 * bytes object the caller releases). NULL with an exception set on failure. */
static const char *utf8_of(PyObject *text, Py_ssize_t *size, PyObject **utf8) {
    *utf8 = NULL;
    if (PyUnicode_IS_ASCII(text)) return PyUnicode_AsUTF8AndSize(text, size);
    if (!(*utf8 = PyUnicode_AsUTF8String(text))) return NULL;
    *size = PyBytes_GET_SIZE(*utf8);
    return PyBytes_AS_STRING(*utf8);
}

static PyObject *scan_resource_list(PyObject *self, PyObject *args) {
    PyObject *text, *decide, *bookkeeping;
    Ctx c;
    memset(&c, 0, sizeof c);
    if (!PyArg_ParseTuple(args, "UOOOOO!O!nin", &text, &decide, &c.resolve, &c.resolve_key,
                          &bookkeeping, &PyDict_Type, &c.cache, &PyDict_Type, &c.shared,
                          &c.shared_max, &c.max_depth, &c.max_events))
        return NULL;
    if (!PyTuple_Check(bookkeeping)) {
        PyErr_SetString(PyExc_TypeError, "bookkeeping must be a tuple");
        return NULL;
    }
    PyObject *utf8;
    Py_ssize_t size;
    const char *data = utf8_of(text, &size, &utf8);
    if (!data) return NULL;
    if (!data || !yaml_parser_initialize(&c.parser)) {
        Py_XDECREF(utf8);
        return data ? PyErr_NoMemory() : NULL;
    }
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)data, (size_t)size);
    yaml_parser_set_encoding(&c.parser, YAML_UTF8_ENCODING);
    c.texts = PyMem_Calloc(TEXT_SLOTS, sizeof(TextSlot)); /* NULL: every text made anew */
    c.keeps = PyDict_New();                               /* NULL: every key asked */
    PyErr_Clear();
    PyObject *entries = PyList_New(0), *result = NULL;
    int r = entries ? OK : ERROR;
    yaml_event_t e;
    Py_ssize_t top_column = 0;
    int documents = 0;
    while (r == OK) {
        r = next_event(&c, &e);
        if (r != OK) break;
        yaml_event_type_t type = e.type;
        yaml_event_delete(&e);
        if (type == YAML_STREAM_END_EVENT) break;
        if (type != YAML_DOCUMENT_START_EVENT) continue;
        if (++documents > 1) {
            r = FALLBACK;
            break;
        }
        r = next_event(&c, &e);
        if (r != OK) break;
        if (e.type != YAML_MAPPING_START_EVENT ||
            e.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE) {
            yaml_event_delete(&e);
            r = FALLBACK;
            break;
        }
        top_column = (Py_ssize_t)e.start_mark.column;
        yaml_event_delete(&e);
        r = body(&c, decide, bookkeeping, entries);
    }
    if (r == OK && documents != 1) r = FALLBACK;
    if (r == OK) result = Py_BuildValue("(nO)", top_column, entries);
    else if (r == FALLBACK) result = Py_NewRef(Py_None);
    clear_events(&c);
    PyMem_Free(c.ev);
    PyMem_Free(c.frames);
    Py_XDECREF(c.keeps);
    free_texts(&c);
    yaml_parser_delete(&c.parser);
    Py_XDECREF(entries);
    Py_XDECREF(utf8);
    return result;
}

/* -- node trees (splice._node_tree) ---------------------------------------------------------- */

typedef struct {
    yaml_parser_t parser;
    const char *text; /* ASCII: offsets are indexes */
    PyObject *kinds[3];
} Tree;

/* (kind, start, end, flow, children) -- Py_BuildValue parses its format on every call, and a
 * plan re-reads thousands of edited items. Steals ``children``. */
static PyObject *tree_tuple(PyObject *kind, Py_ssize_t start, Py_ssize_t end, int flow,
                            PyObject *children) {
    PyObject *out = PyTuple_New(5), *a = NULL, *b = NULL;
    if (!out || !children || !(a = PyLong_FromSsize_t(start)) || !(b = PyLong_FromSsize_t(end))) {
        Py_XDECREF(out);
        Py_XDECREF(children);
        Py_XDECREF(a);
        return NULL;
    }
    PyTuple_SET_ITEM(out, 0, Py_NewRef(kind));
    PyTuple_SET_ITEM(out, 1, a);
    PyTuple_SET_ITEM(out, 2, b);
    PyTuple_SET_ITEM(out, 3, Py_NewRef(flow ? Py_True : Py_False));
    PyTuple_SET_ITEM(out, 4, children);
    return out;
}

/* The node starting with *e (consumed); NULL with no exception set: use the Python path. */
static PyObject *tree_node(Tree *t, yaml_event_t *e, int depth) {
    if (depth > 200) { /* MAX_DEPTH: the Python path reports it */
        yaml_event_delete(e);
        return NULL;
    }
    if (e->type == YAML_SCALAR_EVENT) {
        Py_ssize_t start = (Py_ssize_t)e->start_mark.index, end = (Py_ssize_t)e->end_mark.index;
        int plain = !e->data.scalar.anchor && !e->data.scalar.tag;
        yaml_event_delete(e);
        if (!plain) return NULL;
        while (end > start && strchr(" \t\r\n", t->text[end - 1]) && t->text[end - 1]) end--;
        return tree_tuple(t->kinds[2], start, end, 0, PyTuple_New(0));
    }
    int is_map = e->type == YAML_MAPPING_START_EVENT;
    if (!is_map && e->type != YAML_SEQUENCE_START_EVENT) {
        yaml_event_delete(e);
        return NULL;
    }
    int flow = is_map ? e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                      : e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    int plain = is_map ? !e->data.mapping_start.anchor && !e->data.mapping_start.tag
                       : !e->data.sequence_start.anchor && !e->data.sequence_start.tag;
    Py_ssize_t start = (Py_ssize_t)e->start_mark.index, end = start;
    yaml_event_delete(e);
    if (!plain) return NULL;
    PyObject *children = PyList_New(0);
    if (!children) return NULL;
    Py_ssize_t index = 0;
    for (;;) {
        yaml_event_t next;
        if (!yaml_parser_parse(&t->parser, &next)) goto fail;
        if (next.type == YAML_MAPPING_END_EVENT || next.type == YAML_SEQUENCE_END_EVENT) {
            if (flow) end = (Py_ssize_t)next.end_mark.index;
            yaml_event_delete(&next);
            break;
        }
        PyObject *key;
        Py_ssize_t key_end = 0;
        if (is_map) {
            key = next.type == YAML_SCALAR_EVENT ? text_of(&next) : Py_NewRef(Py_None);
            PyObject *key_node = key ? tree_node(t, &next, depth + 1) : NULL;
            if (!key_node) {
                Py_XDECREF(key);
                goto fail;
            }
            key_end = PyLong_AsSsize_t(PyTuple_GET_ITEM(key_node, 2));
            Py_DECREF(key_node);
            if (!yaml_parser_parse(&t->parser, &next)) {
                Py_DECREF(key);
                goto fail;
            }
        } else {
            key = PyLong_FromSsize_t(index++);
            if (!key) {
                yaml_event_delete(&next);
                goto fail;
            }
        }
        PyObject *child = tree_node(t, &next, depth + 1);
        if (!child) {
            Py_DECREF(key);
            goto fail;
        }
        Py_ssize_t child_end = PyLong_AsSsize_t(PyTuple_GET_ITEM(child, 2));
        if (key_end > end) end = key_end;
        if (child_end > end) end = child_end;
        PyObject *pair = PyTuple_Pack(2, key, child);
        Py_DECREF(key);
        Py_DECREF(child);
        if (!pair || PyList_Append(children, pair) < 0) {
            Py_XDECREF(pair);
            goto fail;
        }
        Py_DECREF(pair);
    }
    return tree_tuple(t->kinds[is_map ? 0 : 1], start, end, flow, children);
fail:
    Py_DECREF(children);
    return NULL;
}

static PyObject *node_tree(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    Tree t;
    memset(&t, 0, sizeof t);
    Py_ssize_t size;
    t.text = PyUnicode_AsUTF8AndSize(text, &size);
    if (!t.text) return NULL;
    if (!(t.kinds[0] = PyUnicode_FromString("map")) || !(t.kinds[1] = PyUnicode_FromString("seq")) ||
        !(t.kinds[2] = PyUnicode_FromString("scalar"))) {
        for (int i = 0; i < 3; i++) Py_XDECREF(t.kinds[i]);
        return NULL;
    }
    PyObject *out = NULL;
    if (yaml_parser_initialize(&t.parser)) {
        yaml_parser_set_input_string(&t.parser, (const unsigned char *)t.text, (size_t)size);
        yaml_parser_set_encoding(&t.parser, YAML_UTF8_ENCODING);
        yaml_event_t e;
        int ok = 1;
        while ((ok = yaml_parser_parse(&t.parser, &e)) && e.type != YAML_DOCUMENT_START_EVENT &&
               e.type != YAML_STREAM_END_EVENT)
            yaml_event_delete(&e);
        if (ok && e.type == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&e);
            if (yaml_parser_parse(&t.parser, &e)) out = tree_node(&t, &e, 0);
        } else if (ok) {
            yaml_event_delete(&e);
        }
        /* The rest must parse too (the Python path reads every event of the text). */
        while (out) {
            if (!yaml_parser_parse(&t.parser, &e)) {
                Py_CLEAR(out);
                break;
            }
            yaml_event_type_t type = e.type;
            int unusual = (type == YAML_ALIAS_EVENT) ||
                          (type == YAML_SCALAR_EVENT && (e.data.scalar.anchor || e.data.scalar.tag)) ||
                          type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT;
            yaml_event_delete(&e);
            if (unusual) Py_CLEAR(out);
            if (type == YAML_STREAM_END_EVENT) break;
        }
        yaml_parser_delete(&t.parser);
    } else {
        PyErr_NoMemory();
    }
    for (int i = 0; i < 3; i++) Py_DECREF(t.kinds[i]);
    if (!out && !PyErr_Occurred()) Py_RETURN_NONE;
    return out;
}

/* -- the first document's kind (scan.first_document_kind) ------------------------------------ */

/* Whether the Python path must read the event: an alias, an anchor or a tag (it checks them). */
static int unusual_event(const yaml_event_t *e) {
    switch (e->type) {
    case YAML_ALIAS_EVENT: return 1;
    case YAML_SCALAR_EVENT: return e->data.scalar.anchor || e->data.scalar.tag;
    case YAML_SEQUENCE_START_EVENT: return e->data.sequence_start.anchor || e->data.sequence_start.tag;
    case YAML_MAPPING_START_EVENT: return e->data.mapping_start.anchor || e->data.mapping_start.tag;
    default: return 0;
    }
}

/* The outcome of first_document_kind: 0 found (*kind set, NULL for none), -1 use Python. */
static int document_kind(yaml_parser_t *p, PyObject **kind) {
    yaml_event_t e;
    *kind = NULL;
    for (;;) { /* to the first document */
        if (!yaml_parser_parse(p, &e)) return -1;
        yaml_event_type_t type = e.type;
        yaml_event_delete(&e);
        if (type == YAML_STREAM_END_EVENT) return 0;
        if (type == YAML_DOCUMENT_START_EVENT) break;
    }
    if (!yaml_parser_parse(p, &e)) return -1;
    int is_map = e.type == YAML_MAPPING_START_EVENT, odd = unusual_event(&e);
    yaml_event_delete(&e);
    if (odd) return -1;
    if (!is_map) return 0;
    for (;;) {
        yaml_event_t key, value;
        if (!yaml_parser_parse(p, &key)) return -1;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            return 0;
        }
        if (key.type != YAML_SCALAR_EVENT || unusual_event(&key)) {
            yaml_event_delete(&key);
            return -1;
        }
        int is_kind = key.data.scalar.length == 4 && !memcmp(key.data.scalar.value, "kind", 4);
        yaml_event_delete(&key);
        if (!yaml_parser_parse(p, &value)) return -1;
        if (unusual_event(&value)) {
            yaml_event_delete(&value);
            return -1;
        }
        if (is_kind) {
            if (value.type == YAML_SCALAR_EVENT) {
                *kind = PyUnicode_DecodeUTF8((const char *)value.data.scalar.value,
                                             (Py_ssize_t)value.data.scalar.length, "strict");
                yaml_event_delete(&value);
                return *kind ? 0 : -2;
            }
            yaml_event_delete(&value);
            return 0;
        }
        int depth = value.type == YAML_MAPPING_START_EVENT || value.type == YAML_SEQUENCE_START_EVENT;
        yaml_event_delete(&value);
        while (depth) { /* skip the value's node */
            if (!yaml_parser_parse(p, &e)) return -1;
            odd = unusual_event(&e);
            if (e.type == YAML_MAPPING_START_EVENT || e.type == YAML_SEQUENCE_START_EVENT) depth++;
            else if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) depth--;
            yaml_event_delete(&e);
            if (odd || depth > 100) return -1; /* deep nesting: the Python path bounds it */
        }
    }
}

static PyObject *first_document_kind(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    PyObject *utf8;
    Py_ssize_t size;
    const char *data = utf8_of(text, &size, &utf8);
    if (!data) return NULL;
    yaml_parser_t p;
    if (!data || !yaml_parser_initialize(&p)) {
        Py_XDECREF(utf8);
        return data ? PyErr_NoMemory() : NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)data, (size_t)size);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    PyObject *kind;
    int r = document_kind(&p, &kind);
    yaml_parser_delete(&p);
    Py_XDECREF(utf8);
    if (r == -2) return NULL;
    if (r == -1) Py_RETURN_NOTIMPLEMENTED;
    if (!kind) Py_RETURN_NONE;
    return kind;
}

static PyMethodDef methods[] = {
    {"scan_resource_list", scan_resource_list, METH_VARARGS,
     "scan_resource_list(text, decide, resolve, resolve_key, bookkeeping, cache, shared, "
     "shared_max, max_depth, max_events) -> (top column, entries) or None (use the Python "
     "scanner)"},
    {"node_tree", node_tree, METH_VARARGS,
     "node_tree(ascii_text) -> (kind, start, end, flow, children) of the first document of the first document, or None (use the "
     "Python path)"},
    {"first_document_kind", first_document_kind, METH_VARARGS,
     "first_document_kind(text) -> the first document's kind, None, or NotImplemented (use the "
     "Python path)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cscan",
                                    "The compiled scanner of a ResourceList (see _cscan.c).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__cscan(void) { return PyModule_Create(&module); }
