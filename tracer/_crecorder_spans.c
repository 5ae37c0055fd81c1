/*
 * Spans in C: the compiled twin of tracer/thread_stream.py's event loop and of the span
 * part of tracer/document.py. Included by _crecorder.c (one translation unit: it works
 * on the recorder's chunk lists directly, so drained events never become Python tuples).
 *
 * The Python code stays the reference: tests feed the same events to both and compare
 * the documents. What lives here:
 *
 * - EventBlock: one thread's drained events, still in their chunks (Recorder.drain_blocks).
 * - Naming: per code object / C function, what the trace needs (visibility, named stage,
 *   the JSON of name/file/line), asked from Python once and kept in pointer-keyed tables,
 *   because hashing a code object in Python costs more than everything else done per event.
 * - SpanCore: one thread's shadow stack and finished spans (ThreadStream's state); markers
 *   go back to Python, which owns the windows.
 * - SpanBlock: the spans of one cut window.
 * - Naming.render: the spans of a trace as the JSON text of its "spans" array.
 */

/* ---------------------------------------------------------------------------------- */
/* A pointer-keyed table. Keys are one or two addresses; `hold` keeps the object behind
 * the first alive so that its address cannot be reused by something else. */

typedef struct {
    uintptr_t k1, k2;
    PyObject *hold;     /* strong; NULL marks an empty slot */
    PyObject *value;    /* strong or NULL */
    long ival;
} pm_entry_t;

typedef struct {
    pm_entry_t *tab;
    size_t cap;         /* a power of two */
    size_t used;
} pmap_t;

static inline size_t
pm_hash(uintptr_t k1, uintptr_t k2)
{
    uint64_t h = (uint64_t)k1 * 0x9E3779B97F4A7C15ull ^ (uint64_t)k2 * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

static pm_entry_t *
pm_lookup(pmap_t *m, uintptr_t k1, uintptr_t k2)
{
    if (m->cap == 0) {
        return NULL;
    }
    size_t i = pm_hash(k1, k2) & (m->cap - 1);
    while (m->tab[i].hold != NULL) {
        if (m->tab[i].k1 == k1 && m->tab[i].k2 == k2) {
            return &m->tab[i];
        }
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

/* Inserts a new key (not present); takes new references to hold and value. */
static pm_entry_t *
pm_insert(pmap_t *m, uintptr_t k1, uintptr_t k2, PyObject *hold, PyObject *value, long ival)
{
    if ((m->used + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        pm_entry_t *tab = PyMem_Calloc(cap, sizeof(pm_entry_t));
        if (tab == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        for (size_t j = 0; j < m->cap; j++) {
            if (m->tab[j].hold != NULL) {
                size_t i = pm_hash(m->tab[j].k1, m->tab[j].k2) & (cap - 1);
                while (tab[i].hold != NULL) {
                    i = (i + 1) & (cap - 1);
                }
                tab[i] = m->tab[j];
            }
        }
        PyMem_Free(m->tab);
        m->tab = tab;
        m->cap = cap;
    }
    size_t i = pm_hash(k1, k2) & (m->cap - 1);
    while (m->tab[i].hold != NULL) {
        i = (i + 1) & (m->cap - 1);
    }
    pm_entry_t *e = &m->tab[i];
    e->k1 = k1;
    e->k2 = k2;
    e->hold = Py_NewRef(hold);
    e->value = Py_XNewRef(value);
    e->ival = ival;
    m->used++;
    return e;
}

static void
pm_clear(pmap_t *m)
{
    for (size_t j = 0; j < m->cap; j++) {
        Py_CLEAR(m->tab[j].hold);
        Py_CLEAR(m->tab[j].value);
    }
    PyMem_Free(m->tab);
    m->tab = NULL;
    m->cap = m->used = 0;
}

static int
pm_traverse(pmap_t *m, visitproc visit, void *arg)
{
    for (size_t j = 0; j < m->cap; j++) {
        Py_VISIT(m->tab[j].hold);
        Py_VISIT(m->tab[j].value);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* EventBlock */

typedef struct {
    PyObject_HEAD
    chunk_t *chain;
    Py_ssize_t count;
    clock_map_t map;
} EventBlock;

static PyTypeObject EventBlock_Type;

static PyObject *
event_block_new(chunk_t *chain, Py_ssize_t count, const clock_map_t *map)
{
    EventBlock *b = PyObject_New(EventBlock, &EventBlock_Type);
    if (b == NULL) {
        free_chain(chain);
        return NULL;
    }
    b->chain = chain;
    b->count = count;
    b->map = *map;
    return (PyObject *)b;
}

static void
EventBlock_dealloc(EventBlock *self)
{
    chunk_t *chain = self->chain;
    self->chain = NULL;
    free_chain(chain);
    PyObject_Free(self);
}

static Py_ssize_t
EventBlock_len(EventBlock *self)
{
    return self->count;
}

/* The events as (time_ns, event, obj) tuples, as drain() gives them; empties the block. */
static PyObject *
EventBlock_events(EventBlock *self, PyObject *Py_UNUSED(ignored))
{
    chunk_t *chain = self->chain;
    Py_ssize_t count = self->count;
    self->chain = NULL;
    self->count = 0;
    return chain_to_list(chain, count, &self->map);
}

/* event_block(events): an EventBlock holding the given (time_ns, event, obj) tuples, as
 * drain_blocks() would have; for tests that feed the same events to both span paths. */
static PyObject *
event_block_from_events(PyObject *module, PyObject *events)
{
    if (!PyList_Check(events)) {
        PyErr_SetString(PyExc_TypeError, "event_block(list of (time_ns, event, obj))");
        return NULL;
    }
    /* Stamps map back to themselves: raw = t + stamp_base under the TSC mapping below;
     * without the TSC, stamps are ns already and are stored relative to stamp_base. */
    clock_map_t map = {{stamp_base, 0}, 1.0};
    chunk_t *head = NULL, *tail = NULL;
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(events); i++) {
        long long t;
        PyObject *name, *obj;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(events, i), "LUO", &t, &name, &obj)) {
            goto fail;
        }
        int kind = -1;
        for (int k = 0; k < EV_COUNT; k++) {
            if (PyUnicode_CompareWithASCIIString(name, kind_text[k]) == 0) {
                kind = k;
            }
        }
        uint64_t stored = use_tsc ? (uint64_t)t : (uint64_t)t - stamp_base;
        if (kind < 0 || t < 0 || (!use_tsc && (uint64_t)t < stamp_base)) {
            PyErr_SetString(PyExc_ValueError, "not a recorded event");
            goto fail;
        }
        if (tail == NULL || tail->used == CHUNK_EVENTS) {
            chunk_t *fresh = PyMem_RawMalloc(sizeof(chunk_t));
            if (fresh == NULL) {
                PyErr_NoMemory();
                goto fail;
            }
            fresh->next = NULL;
            fresh->used = 0;
            if (tail == NULL) {
                head = fresh;
            }
            else {
                tail->next = fresh;
            }
            tail = fresh;
        }
        event_t *e = &tail->ev[tail->used++];
        e->time_kind = (stored << KIND_BITS) | (uint64_t)kind;
        e->obj = Py_NewRef(obj);
        count++;
    }
    return event_block_new(head, count, &map);
fail:
    free_chain(head);
    return NULL;
}

static PyMethodDef EventBlock_methods[] = {
    {"events", (PyCFunction)EventBlock_events, METH_NOARGS,
     "The events as a list of (time_ns, event, obj); empties the block."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods EventBlock_as_sequence = {
    .sq_length = (lenfunc)EventBlock_len,
};

static PyTypeObject EventBlock_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer._crecorder.EventBlock",
    .tp_basicsize = sizeof(EventBlock),
    .tp_dealloc = (destructor)EventBlock_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One thread's drained events, still in the recorder's chunks.",
    .tp_methods = EventBlock_methods,
    .tp_as_sequence = &EventBlock_as_sequence,
};

/* ---------------------------------------------------------------------------------- */
/* Naming */

/* Visibility, as tracer/names.py numbers it. */
enum { VIS_VISIBLE = 0, VIS_PASS_THROUGH = 1, VIS_OPAQUE = 2, VIS_COLLAPSED = 3 };

typedef struct {
    PyObject_HEAD
    PyObject *classify;   /* code -> (visibility, named stage or None) */
    PyObject *describe;   /* (obj, is_c) -> ('"name":..,"file":..,"line":..', name) */
    pmap_t codes;         /* code -> ival visibility, value named stage (or NULL) */
    pmap_t names;         /* code or C function -> value (utf-8 fragment bytes, name) */
} Naming;

static PyTypeObject Naming_Type;

static PyObject *
Naming_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *classify, *describe;
    if (!PyArg_ParseTuple(args, "OO:Naming", &classify, &describe)) {
        return NULL;
    }
    Naming *self = (Naming *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->classify = Py_NewRef(classify);
    self->describe = Py_NewRef(describe);
    return (PyObject *)self;
}

static int
Naming_traverse(Naming *self, visitproc visit, void *arg)
{
    Py_VISIT(self->classify);
    Py_VISIT(self->describe);
    if (pm_traverse(&self->codes, visit, arg) || pm_traverse(&self->names, visit, arg)) {
        return -1;
    }
    return 0;
}

static int
Naming_clear(Naming *self)
{
    Py_CLEAR(self->classify);
    Py_CLEAR(self->describe);
    pm_clear(&self->codes);
    pm_clear(&self->names);
    return 0;
}

static void
Naming_dealloc(Naming *self)
{
    PyObject_GC_UnTrack(self);
    Naming_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The classification of a code object: its table entry, or NULL with an error. */
static pm_entry_t *
naming_code(Naming *self, PyObject *code)
{
    pm_entry_t *e = pm_lookup(&self->codes, (uintptr_t)code, 0);
    if (e != NULL) {
        return e;
    }
    if (self->classify == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Naming was cleared");
        return NULL;
    }
    PyObject *r = PyObject_CallOneArg(self->classify, code);
    if (r == NULL) {
        return NULL;
    }
    long vis;
    PyObject *stage;
    if (!PyArg_ParseTuple(r, "lO", &vis, &stage)) {
        Py_DECREF(r);
        return NULL;
    }
    e = pm_insert(&self->codes, (uintptr_t)code, 0, code, stage == Py_None ? NULL : stage, vis);
    Py_DECREF(r);
    return e;
}

/* The key under which a recorded object is named: a C method bound to an instance is
 * named by its method and the instance's type (the instance is not kept alive). */
static inline void
name_key(PyObject *obj, uintptr_t *k1, uintptr_t *k2, PyObject **hold)
{
    if (PyCFunction_Check(obj)) {
        PyCFunctionObject *f = (PyCFunctionObject *)obj;
        PyObject *self = f->m_self;
        if (self != NULL && !PyModule_Check(self) && !PyType_Check(self)) {
            *k1 = (uintptr_t)f->m_ml;
            *k2 = (uintptr_t)Py_TYPE(self);
            *hold = (PyObject *)Py_TYPE(self);
            return;
        }
    }
    *k1 = (uintptr_t)obj;
    *k2 = 1;
    *hold = obj;
}

/* (fragment bytes, name) for a recorded object: borrowed, or NULL with an error. */
static PyObject *
naming_describe(Naming *self, PyObject *obj, int is_c)
{
    uintptr_t k1, k2;
    PyObject *hold;
    name_key(obj, &k1, &k2, &hold);
    pm_entry_t *e = pm_lookup(&self->names, k1, k2);
    if (e != NULL) {
        return e->value;
    }
    if (self->describe == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Naming was cleared");
        return NULL;
    }
    PyObject *r = PyObject_CallFunction(self->describe, "Oi", obj, is_c);
    if (r == NULL) {
        return NULL;
    }
    PyObject *fragment, *name;
    if (!PyArg_ParseTuple(r, "UU", &fragment, &name)) {
        Py_DECREF(r);
        return NULL;
    }
    PyObject *utf8 = PyUnicode_AsUTF8String(fragment);
    PyObject *value = utf8 ? PyTuple_Pack(2, utf8, name) : NULL;
    Py_XDECREF(utf8);
    Py_DECREF(r);
    if (value == NULL) {
        return NULL;
    }
    e = pm_insert(&self->names, k1, k2, hold, value, 0);
    Py_DECREF(value);
    return e ? e->value : NULL;
}

/* ---------------------------------------------------------------------------------- */
/* SpanBlock */

enum { SK_CALL, SK_LAYER, SK_C_CALL, SK_COUNT };
static const char *const span_kind_text[SK_COUNT] = {"call", "layer", "c_call"};
static PyObject *span_kind_names[SK_COUNT];

typedef struct {
    int64_t sid;
    int64_t parent;     /* 0: none */
    PyObject *key;      /* strong */
    PyObject *layer;    /* strong or NULL */
    int64_t start;
    int64_t end;
    uint8_t kind;       /* SK_* */
    uint8_t clipped;
} span_t;

typedef struct {
    span_t *v;
    Py_ssize_t n, cap;
} span_vec_t;

static int
span_push(span_vec_t *vec, const span_t *s)
{
    if (vec->n == vec->cap) {
        Py_ssize_t cap = vec->cap ? vec->cap * 2 : 256;
        span_t *v = PyMem_Realloc(vec->v, (size_t)cap * sizeof(span_t));
        if (v == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = *s;
    return 0;
}

static void
span_vec_clear(span_vec_t *vec)
{
    for (Py_ssize_t i = 0; i < vec->n; i++) {
        Py_XDECREF(vec->v[i].key);
        Py_XDECREF(vec->v[i].layer);
    }
    PyMem_Free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}

typedef struct {
    PyObject_HEAD
    span_vec_t spans;
} SpanBlock;

static PyTypeObject SpanBlock_Type;

static void
SpanBlock_dealloc(SpanBlock *self)
{
    span_vec_clear(&self->spans);
    PyObject_Free(self);
}

static Py_ssize_t
SpanBlock_len(SpanBlock *self)
{
    return self->spans.n;
}

static PyObject *
id_or_none(int64_t id)
{
    return id ? PyLong_FromLongLong(id) : Py_NewRef(Py_None);
}

/* The spans as thread_stream.py's tuples (sid, parent, key, kind, start, end, layer,
 * clipped), for the code that reads few of them (the startup trace, tests). */
static PyObject *
SpanBlock_tuples(SpanBlock *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *list = PyList_New(self->spans.n);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->spans.n; i++) {
        span_t *s = &self->spans.v[i];
        PyObject *t = Py_BuildValue("(LNOOLLOO)", (long long)s->sid, id_or_none(s->parent),
                                    s->key, span_kind_names[s->kind], (long long)s->start,
                                    (long long)s->end, s->layer ? s->layer : Py_None,
                                    s->clipped ? Py_True : Py_False);
        if (t == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, t);
    }
    return list;
}

static PyMethodDef SpanBlock_methods[] = {
    {"tuples", (PyCFunction)SpanBlock_tuples, METH_NOARGS,
     "The spans as (sid, parent, key, kind, start, end, layer, clipped) tuples."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods SpanBlock_as_sequence = {
    .sq_length = (lenfunc)SpanBlock_len,
};

static PyTypeObject SpanBlock_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer._crecorder.SpanBlock",
    .tp_basicsize = sizeof(SpanBlock),
    .tp_dealloc = (destructor)SpanBlock_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The spans of one window of one thread.",
    .tp_methods = SpanBlock_methods,
    .tp_as_sequence = &SpanBlock_as_sequence,
};

/* ---------------------------------------------------------------------------------- */
/* SpanCore: ThreadStream's shadow stack and finished spans. */

/* Stack entry kinds, as thread_stream.py names them. */
enum { ENT_CALL, ENT_LAYER, ENT_C_CALL, ENT_OPAQUE, ENT_HIDDEN, ENT_COLLAPSED };

typedef struct {
    int64_t child_parent;   /* the id children use as their parent (0: none) */
    int64_t sid;            /* own span id (0: hidden) */
    int64_t parent;         /* own parent id */
    PyObject *key;          /* strong */
    PyObject *layer;        /* strong or NULL */
    int64_t start;
    int kind;               /* ENT_* */
} entry_t;

typedef struct {
    PyObject_HEAD
    Naming *naming;
    Py_ssize_t max_events;
    entry_t *stack;
    Py_ssize_t depth, stack_cap;
    span_vec_t done;
    int64_t next_id;
    int has_window;
    int64_t window_start;
    int open_on_first_event;
    PyObject *pending_layer;
    long long events, python_calls, c_calls;
    int truncated;
    int64_t last_time;
} SpanCore;

static PyTypeObject SpanCore_Type;

static PyObject *
SpanCore_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *naming;
    Py_ssize_t max_events;
    if (!PyArg_ParseTuple(args, "O!n:SpanCore", &Naming_Type, &naming, &max_events)) {
        return NULL;
    }
    SpanCore *self = (SpanCore *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->naming = (Naming *)Py_NewRef(naming);
    self->max_events = max_events;
    self->next_id = 1;
    self->open_on_first_event = 1;
    return (PyObject *)self;
}

static void
core_clear_stack(SpanCore *self)
{
    /* Releasing may run Python code (a layer visit's last reference): empty it first. */
    Py_ssize_t depth = self->depth;
    self->depth = 0;
    for (Py_ssize_t i = 0; i < depth; i++) {
        Py_XDECREF(self->stack[i].key);
        Py_XDECREF(self->stack[i].layer);
    }
}

static void
core_clear_done(SpanCore *self)
{
    span_vec_t done = self->done;
    self->done = (span_vec_t){NULL, 0, 0};
    span_vec_clear(&done);
}

static int
SpanCore_traverse(SpanCore *self, visitproc visit, void *arg)
{
    Py_VISIT(self->naming);
    Py_VISIT(self->pending_layer);
    for (Py_ssize_t i = 0; i < self->depth; i++) {
        Py_VISIT(self->stack[i].layer);
    }
    for (Py_ssize_t i = 0; i < self->done.n; i++) {
        Py_VISIT(self->done.v[i].layer);
    }
    return 0;
}

static int
SpanCore_clear(SpanCore *self)
{
    Py_CLEAR(self->naming);
    Py_CLEAR(self->pending_layer);
    core_clear_stack(self);
    core_clear_done(self);
    return 0;
}

static void
SpanCore_dealloc(SpanCore *self)
{
    PyObject_GC_UnTrack(self);
    SpanCore_clear(self);
    PyMem_Free(self->stack);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Pushes an entry; takes new references to key and (stolen) layer. */
static int
core_push(SpanCore *self, int64_t child_parent, int64_t sid, PyObject *key, int64_t start,
          int kind, PyObject *layer_stolen, int64_t parent)
{
    if (self->depth == self->stack_cap) {
        Py_ssize_t cap = self->stack_cap ? self->stack_cap * 2 : 64;
        entry_t *stack = PyMem_Realloc(self->stack, (size_t)cap * sizeof(entry_t));
        if (stack == NULL) {
            Py_XDECREF(layer_stolen);
            PyErr_NoMemory();
            return -1;
        }
        self->stack = stack;
        self->stack_cap = cap;
    }
    entry_t *e = &self->stack[self->depth++];
    e->child_parent = child_parent;
    e->sid = sid;
    e->parent = parent;
    e->key = Py_NewRef(key);
    e->layer = layer_stolen;
    e->start = start;
    e->kind = kind;
    return 0;
}

static inline int
entry_span_kind(int kind)
{
    return kind == ENT_LAYER ? SK_LAYER : kind == ENT_C_CALL ? SK_C_CALL : SK_CALL;
}

/* A frame ended at t: keep its span if it is one and the window wants it. Steals the
 * entry's references. */
static int
core_close(SpanCore *self, entry_t *entry, int64_t t, int keep)
{
    if (entry->sid == 0 || !keep || !self->has_window || t <= self->window_start) {
        goto release;
    }
    if (self->done.n >= self->max_events) {
        self->truncated = 1;
        goto release;
    }
    span_t s = {entry->sid, entry->parent, entry->key, entry->layer, entry->start, t,
                (uint8_t)entry_span_kind(entry->kind), 0};
    if (span_push(&self->done, &s) < 0) {
        goto release;
    }
    return 0;
release:
    Py_XDECREF(entry->key);
    Py_XDECREF(entry->layer);
    return PyErr_Occurred() ? -1 : 0;
}

static int
core_pop_python(SpanCore *self, PyObject *code, int64_t t, int keep)
{
    for (Py_ssize_t d = self->depth - 1; d >= 0; d--) {
        entry_t *e = &self->stack[d];
        if (e->kind != ENT_C_CALL && e->key == code) {
            while (self->depth > d) {
                entry_t popped = self->stack[--self->depth];
                if (core_close(self, &popped, t, keep) < 0) {
                    return -1;
                }
            }
            return 0;
        }
    }
    /* A return for a frame that began before the hook was installed: nothing to close. */
    return 0;
}

static void
core_open(SpanCore *self, int64_t t)
{
    self->has_window = 1;
    self->window_start = t;
    core_clear_done(self);
    self->events = self->python_calls = self->c_calls = 0;
    self->truncated = 0;
}

static int
core_event(SpanCore *self, int64_t t, int kind, PyObject *obj, PyObject *on_mark)
{
    if (kind == EV_MARK) {
        PyObject *stamp = PyLong_FromLongLong(t);
        if (stamp == NULL) {
            return -1;
        }
        PyObject *r = PyObject_CallFunctionObjArgs(on_mark, stamp, PyTuple_GET_ITEM(obj, 0),
                                                   PyTuple_GET_ITEM(obj, 1), NULL);
        Py_DECREF(stamp);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
        return 0;
    }
    if (!self->has_window && self->open_on_first_event) {
        core_open(self, t);
    }
    int keep = self->has_window;
    if (keep) {
        self->events++;
    }
    entry_t *top = self->depth ? &self->stack[self->depth - 1] : NULL;
    switch (kind) {
    case EV_CALL: {
        int64_t parent = top ? top->child_parent : 0;
        if (top != NULL && (top->kind == ENT_OPAQUE || top->kind == ENT_COLLAPSED)) {
            return core_push(self, parent, 0, obj, t, ENT_OPAQUE, NULL, parent);
        }
        pm_entry_t *info = naming_code(self->naming, obj);
        if (info == NULL) {
            return -1;
        }
        long seen = info->ival;
        if (seen == VIS_COLLAPSED) {
            int64_t sid = self->next_id++;
            if (keep) {
                self->python_calls++;
            }
            return core_push(self, sid, sid, obj, t, ENT_COLLAPSED, NULL, parent);
        }
        if (seen != VIS_VISIBLE) {
            return core_push(self, parent, 0, obj, t,
                             seen == VIS_OPAQUE ? ENT_OPAQUE : ENT_HIDDEN, NULL, parent);
        }
        int64_t sid = self->next_id++;
        PyObject *layer = self->pending_layer;   /* the reference moves to the entry */
        self->pending_layer = NULL;
        if (core_push(self, sid, sid, obj, t, layer ? ENT_LAYER : ENT_CALL, layer,
                      parent) < 0) {
            return -1;
        }
        if (keep) {
            self->python_calls++;
        }
        break;
    }
    case EV_RETURN:
        if (core_pop_python(self, obj, t, keep) < 0) {
            return -1;
        }
        break;
    case EV_C_CALL: {
        if (top != NULL && ((top->sid == 0 && top->kind != ENT_C_CALL) ||
                            top->kind == ENT_COLLAPSED)) {
            /* A C call made by our own hook code is our overhead, not the app's. */
            return core_push(self, top->child_parent, 0, obj, t, ENT_C_CALL, NULL, 0);
        }
        int64_t sid = self->next_id++;
        int64_t parent = top ? top->child_parent : 0;
        if (core_push(self, parent, sid, obj, t, ENT_C_CALL, NULL, parent) < 0) {
            return -1;
        }
        if (keep) {
            self->c_calls++;
        }
        break;
    }
    default:   /* c_return, c_exception */
        if (top != NULL && top->kind == ENT_C_CALL) {
            entry_t popped = self->stack[--self->depth];
            if (core_close(self, &popped, t, keep) < 0) {
                return -1;
            }
        }
    }
    self->last_time = t;
    return 0;
}

static PyObject *
SpanCore_feed(SpanCore *self, PyObject *args)
{
    EventBlock *block;
    PyObject *on_mark;
    if (!PyArg_ParseTuple(args, "O!O:feed", &EventBlock_Type, &block, &on_mark)) {
        return NULL;
    }
    chunk_t *c = block->chain;
    clock_map_t map = block->map;
    block->chain = NULL;
    block->count = 0;
    int failed = 0;
    while (c != NULL) {
        for (Py_ssize_t j = 0; j < c->used; j++) {
            event_t *e = &c->ev[j];
            PyObject *obj = e->obj;
            e->obj = NULL;
            if (obj == NULL) {
                continue;
            }
            if (!failed) {
                int64_t t = (int64_t)map_stamp(&map, (e->time_kind >> KIND_BITS) + stamp_base);
                failed = core_event(self, t, (int)(e->time_kind & KIND_MASK), obj, on_mark) < 0;
            }
            Py_DECREF(obj);
        }
        chunk_t *next = c->next;
        PyMem_RawFree(c);
        c = next;
    }
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
SpanCore_open(SpanCore *self, PyObject *arg)
{
    long long t = PyLong_AsLongLong(arg);
    if (t == -1 && PyErr_Occurred()) {
        return NULL;
    }
    core_open(self, t);
    Py_RETURN_NONE;
}

static PyObject *
SpanCore_close_window(SpanCore *self, PyObject *Py_UNUSED(ignored))
{
    self->has_window = 0;
    self->open_on_first_event = 0;
    core_clear_done(self);
    Py_RETURN_NONE;
}

static PyObject *
SpanCore_clear_stack(SpanCore *self, PyObject *Py_UNUSED(ignored))
{
    core_clear_stack(self);
    Py_RETURN_NONE;
}

/* Ends the window at t: (SpanBlock, window start, truncated, events, python_calls,
 * c_calls). Spans that began before the window are clipped to it; frames still open are
 * included, clipped at t. */
static PyObject *
SpanCore_cut(SpanCore *self, PyObject *arg)
{
    long long t = PyLong_AsLongLong(arg);
    if (t == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int64_t start = self->has_window ? self->window_start : t;
    SpanBlock *block = PyObject_New(SpanBlock, &SpanBlock_Type);
    if (block == NULL) {
        return NULL;
    }
    block->spans = (span_vec_t){NULL, 0, 0};
    span_vec_t done = self->done;
    self->done = (span_vec_t){NULL, 0, 0};
    int failed = 0;
    for (Py_ssize_t i = 0; i < done.n; i++) {
        span_t s = done.v[i];
        if (failed || s.end <= start) {
            Py_XDECREF(s.key);
            Py_XDECREF(s.layer);
            continue;
        }
        if (s.start < start) {
            s.start = start;
            s.clipped = 1;
        }
        if (span_push(&block->spans, &s) < 0) {
            Py_XDECREF(s.key);
            Py_XDECREF(s.layer);
            failed = 1;
        }
    }
    PyMem_Free(done.v);
    for (Py_ssize_t i = 0; !failed && i < self->depth; i++) {
        entry_t *e = &self->stack[i];
        if (e->sid == 0) {
            continue;
        }
        span_t s = {e->sid, e->parent, Py_NewRef(e->key), Py_XNewRef(e->layer),
                    e->start > start ? e->start : start, t,
                    (uint8_t)entry_span_kind(e->kind), 1};
        if (span_push(&block->spans, &s) < 0) {
            Py_DECREF(s.key);
            Py_XDECREF(s.layer);
            failed = 1;
        }
    }
    PyObject *result = NULL;
    if (!failed) {
        result = Py_BuildValue("(OLOLLL)", block, (long long)start,
                               self->truncated ? Py_True : Py_False, self->events,
                               self->python_calls, self->c_calls);
    }
    Py_DECREF(block);
    self->events = self->python_calls = self->c_calls = 0;
    self->truncated = 0;
    return result;
}

static PyObject *
SpanCore_get_window_start(SpanCore *self, void *closure)
{
    if (!self->has_window) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLongLong(self->window_start);
}

static PyObject *
SpanCore_get_pending_layer(SpanCore *self, void *closure)
{
    return Py_NewRef(self->pending_layer ? self->pending_layer : Py_None);
}

static int
SpanCore_set_pending_layer(SpanCore *self, PyObject *value, void *closure)
{
    Py_XSETREF(self->pending_layer, value == NULL || value == Py_None ? NULL
                                                                      : Py_NewRef(value));
    return 0;
}

static PyObject *
SpanCore_get_depth(SpanCore *self, void *closure)
{
    return PyLong_FromSsize_t(self->depth);
}

static PyObject *
SpanCore_get_open_on_first_event(SpanCore *self, void *closure)
{
    return PyBool_FromLong(self->open_on_first_event);
}

static PyMethodDef SpanCore_methods[] = {
    {"feed", (PyCFunction)SpanCore_feed, METH_VARARGS,
     "feed(block, on_mark): consume an EventBlock; markers go to on_mark(t, name, payload)."},
    {"open", (PyCFunction)SpanCore_open, METH_O, "open(t): a window starts at t."},
    {"cut", (PyCFunction)SpanCore_cut, METH_O,
     "cut(t) -> (SpanBlock, start, truncated, events, python_calls, c_calls)."},
    {"close_window", (PyCFunction)SpanCore_close_window, METH_NOARGS,
     "Nothing worth keeping runs until the next window opens."},
    {"clear_stack", (PyCFunction)SpanCore_clear_stack, METH_NOARGS,
     "Forget the open frames (the thread was attached anew)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef SpanCore_getset[] = {
    {"window_start", (getter)SpanCore_get_window_start, NULL, "Start of the open window.",
     NULL},
    {"pending_layer", (getter)SpanCore_get_pending_layer, (setter)SpanCore_set_pending_layer,
     "The layer visit the next visible call belongs to.", NULL},
    {"depth", (getter)SpanCore_get_depth, NULL, "Frames open on the shadow stack.", NULL},
    {"open_on_first_event", (getter)SpanCore_get_open_on_first_event, NULL,
     "Whether the first event opens a window.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SpanCore_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer._crecorder.SpanCore",
    .tp_basicsize = sizeof(SpanCore),
    .tp_dealloc = (destructor)SpanCore_dealloc,
    .tp_traverse = (traverseproc)SpanCore_traverse,
    .tp_clear = (inquiry)SpanCore_clear,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "One thread's shadow stack and finished spans (see tracer/thread_stream.py).",
    .tp_methods = SpanCore_methods,
    .tp_getset = SpanCore_getset,
    .tp_new = SpanCore_new,
};

/* ---------------------------------------------------------------------------------- */
/* Rendering a trace's spans. */

typedef struct {
    SpanBlock *block;       /* borrowed from the pieces list */
    int64_t lo, hi;
    const char *thread;     /* utf-8, borrowed from the pieces list */
    Py_ssize_t thread_len;
} piece_t;

typedef struct {
    int piece;
    Py_ssize_t index;
    int64_t start, end;
    int64_t sid;
    int64_t parent_sid;     /* 0: none (or dropped with the window) */
    uint8_t clipped;
    int64_t new_id;
} ref_t;

static int
ref_order(const void *a, const void *b)
{
    const ref_t *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->sid != y->sid) {
        return x->sid < y->sid ? -1 : 1;
    }
    if (x->piece != y->piece) {
        return x->piece < y->piece ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* (piece, sid) -> position in refs, open addressing. */
typedef struct {
    int64_t *keys;   /* sid, 0 = empty */
    int *pieces;
    Py_ssize_t *pos;
    size_t cap;
} idmap_t;

static int
idmap_init(idmap_t *m, Py_ssize_t n)
{
    size_t cap = 16;
    while (cap < (size_t)n * 2 + 2) {
        cap *= 2;
    }
    m->cap = cap;
    m->keys = PyMem_Calloc(cap, sizeof(int64_t));
    m->pieces = PyMem_Calloc(cap, sizeof(int));
    m->pos = PyMem_Calloc(cap, sizeof(Py_ssize_t));
    if (m->keys == NULL || m->pieces == NULL || m->pos == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void
idmap_free(idmap_t *m)
{
    PyMem_Free(m->keys);
    PyMem_Free(m->pieces);
    PyMem_Free(m->pos);
}

static void
idmap_put(idmap_t *m, int piece, int64_t sid, Py_ssize_t pos)
{
    size_t i = pm_hash((uintptr_t)sid, (uintptr_t)piece) & (m->cap - 1);
    while (m->keys[i] != 0 && !(m->keys[i] == sid && m->pieces[i] == piece)) {
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = sid;
    m->pieces[i] = piece;
    m->pos[i] = pos;
}

static Py_ssize_t
idmap_get(idmap_t *m, int piece, int64_t sid)
{
    size_t i = pm_hash((uintptr_t)sid, (uintptr_t)piece) & (m->cap - 1);
    while (m->keys[i] != 0) {
        if (m->keys[i] == sid && m->pieces[i] == piece) {
            return m->pos[i];
        }
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

typedef struct {
    char *p;
    size_t n, cap;
} text_t;

static int
text_reserve(text_t *t, size_t more)
{
    if (t->n + more <= t->cap) {
        return 0;
    }
    size_t cap = t->cap ? t->cap : 65536;
    while (cap < t->n + more) {
        cap *= 2;
    }
    char *p = PyMem_Realloc(t->p, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->p = p;
    t->cap = cap;
    return 0;
}

static inline int
text_add(text_t *t, const char *s, size_t n)
{
    if (text_reserve(t, n) < 0) {
        return -1;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    return 0;
}

#define TEXT_LIT(t, s) text_add((t), (s), sizeof(s) - 1)

static inline int
text_int(text_t *t, long long v)
{
    /* snprintf would be a third of render()'s time: a trace has ~10 numbers per span. */
    char buf[24];
    char *end = buf + sizeof(buf), *p = end;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--p = '-';
    }
    return text_add(t, p, (size_t)(end - p));
}

/* The JSON of a str (quotes included), as json.dumps(ensure_ascii=False) writes it. */
static PyObject *json_dumps;   /* json.dumps, imported lazily */

static PyObject *
json_text(PyObject *value)
{
    if (PyUnicode_Check(value) && PyUnicode_IS_ASCII(value)) {
        /* Stage names: plain words, written as they are unless something needs escaping. */
        Py_ssize_t n = PyUnicode_GET_LENGTH(value);
        const char *s = (const char *)PyUnicode_DATA(value);
        int plain = 1;
        for (Py_ssize_t i = 0; i < n && plain; i++) {
            plain = s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' && s[i] != 0x7f;
        }
        if (plain) {
            PyObject *out = PyBytes_FromStringAndSize(NULL, n + 2);
            if (out != NULL) {
                char *d = PyBytes_AS_STRING(out);
                d[0] = '"';
                memcpy(d + 1, s, (size_t)n);
                d[n + 1] = '"';
            }
            return out;
        }
    }
    if (json_dumps == NULL) {
        PyObject *json = PyImport_ImportModule("json");
        if (json == NULL) {
            return NULL;
        }
        json_dumps = PyObject_GetAttrString(json, "dumps");
        Py_DECREF(json);
        if (json_dumps == NULL) {
            return NULL;
        }
    }
    PyObject *kwargs = Py_BuildValue("{sO}", "ensure_ascii", Py_False);
    if (kwargs == NULL) {
        return NULL;
    }
    PyObject *args = PyTuple_Pack(1, value);
    PyObject *text = args ? PyObject_Call(json_dumps, args, kwargs) : NULL;
    Py_XDECREF(args);
    Py_DECREF(kwargs);
    if (text == NULL) {
        return NULL;
    }
    PyObject *utf8 = PyUnicode_AsUTF8String(text);
    Py_DECREF(text);
    return utf8;
}

static int
parse_pieces(PyObject *pieces, piece_t **out, Py_ssize_t *count)
{
    if (!PyList_Check(pieces)) {
        PyErr_SetString(PyExc_TypeError, "pieces must be a list");
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(pieces);
    piece_t *p = PyMem_Calloc(n ? (size_t)n : 1, sizeof(piece_t));
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(pieces, i);
        PyObject *block, *thread;
        long long lo, hi;
        if (!PyArg_ParseTuple(item, "O!LLU", &SpanBlock_Type, &block, &lo, &hi, &thread)) {
            PyMem_Free(p);
            return -1;
        }
        p[i].block = (SpanBlock *)block;
        p[i].lo = lo;
        p[i].hi = hi;
        p[i].thread = PyUnicode_AsUTF8AndSize(thread, &p[i].thread_len);
        if (p[i].thread == NULL) {
            PyMem_Free(p);
            return -1;
        }
    }
    *out = p;
    *count = n;
    return 0;
}

/* The spans of the pieces, clipped to their windows, in document order (start, then id):
 * thread_stream.py's _clip and the sort of DocumentBuilder._spans. */
static int
collect_refs(piece_t *pieces, Py_ssize_t npieces, ref_t **out, Py_ssize_t *count,
             idmap_t *ids)
{
    Py_ssize_t total = 0;
    for (Py_ssize_t k = 0; k < npieces; k++) {
        total += pieces[k].block->spans.n;
    }
    ref_t *refs = PyMem_Calloc(total ? (size_t)total : 1, sizeof(ref_t));
    if (refs == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (idmap_init(ids, total) < 0) {
        PyMem_Free(refs);
        return -1;
    }
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; k < npieces; k++) {
        piece_t *pc = &pieces[k];
        for (Py_ssize_t i = 0; i < pc->block->spans.n; i++) {
            span_t *s = &pc->block->spans.v[i];
            if (s->end <= pc->lo || s->start >= pc->hi) {
                continue;
            }
            ref_t *r = &refs[n];
            r->piece = (int)k;
            r->index = i;
            r->sid = s->sid;
            r->parent_sid = s->parent;
            r->clipped = s->clipped;
            r->start = s->start;
            r->end = s->end;
            if (r->start < pc->lo) {
                r->start = pc->lo;
                r->clipped = 1;
            }
            if (r->end > pc->hi) {
                r->end = pc->hi;
                r->clipped = 1;
            }
            n++;
        }
    }
    qsort(refs, (size_t)n, sizeof(ref_t), ref_order);
    for (Py_ssize_t i = 0; i < n; i++) {
        refs[i].new_id = i + 1;
        idmap_put(ids, refs[i].piece, refs[i].sid, i);
    }
    *out = refs;
    *count = n;
    return 0;
}

/* named(pieces) -> [(start, end, stage)]: the spans of Python calls whose name gives a
 * stage (tracer/stages.py's named rules, as classify reported them), clipped. */
static PyObject *
Naming_named(Naming *self, PyObject *arg)
{
    piece_t *pieces;
    Py_ssize_t npieces;
    if (parse_pieces(arg, &pieces, &npieces) < 0) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    for (Py_ssize_t k = 0; out != NULL && k < npieces; k++) {
        piece_t *pc = &pieces[k];
        for (Py_ssize_t i = 0; i < pc->block->spans.n; i++) {
            span_t *s = &pc->block->spans.v[i];
            if (s->kind == SK_C_CALL || s->end <= pc->lo || s->start >= pc->hi) {
                continue;
            }
            pm_entry_t *e = pm_lookup(&self->codes, (uintptr_t)s->key, 0);
            if (e == NULL || e->value == NULL) {
                continue;
            }
            PyObject *item = Py_BuildValue("(LLO)", (long long)(s->start > pc->lo ? s->start
                                                                                  : pc->lo),
                                           (long long)(s->end < pc->hi ? s->end : pc->hi),
                                           e->value);
            if (item == NULL || PyList_Append(out, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(out);
                break;
            }
            Py_DECREF(item);
        }
    }
    PyMem_Free(pieces);
    return out;
}

/* render(pieces, base, run_starts, run_names, visit_index, raisers)
 *   -> (json text of the spans array, count, span_for_visit, raised_span)
 *
 * pieces: [(SpanBlock, lo, hi, thread id)]; run_starts/run_names: the stage runs;
 * visit_index: {id(layer visit): index in layers[]}; raisers: {function name: index in
 * exceptions[]}, linked to the last span of that name. span_for_visit maps id(visit) to
 * span id, raised_span a raiser's name to span id. */
static PyObject *
Naming_render(Naming *self, PyObject *args)
{
    PyObject *pieces_list, *starts_list, *names_list, *visit_index, *raisers;
    long long base;
    if (!PyArg_ParseTuple(args, "OLO!O!O!O!:render", &pieces_list, &base, &PyList_Type,
                          &starts_list, &PyList_Type, &names_list, &PyDict_Type, &visit_index,
                          &PyDict_Type, &raisers)) {
        return NULL;
    }
    Py_ssize_t nruns = PyList_GET_SIZE(starts_list);
    if (PyList_GET_SIZE(names_list) != nruns) {
        PyErr_SetString(PyExc_ValueError, "run_starts and run_names differ in length");
        return NULL;
    }
    piece_t *pieces = NULL;
    Py_ssize_t npieces = 0, n = 0;
    ref_t *refs = NULL;
    idmap_t ids = {NULL, NULL, NULL, 0};
    int64_t *run_starts = NULL;
    PyObject **run_json = NULL;
    PyObject *span_for_visit = NULL, *raised_span = NULL, *result = NULL;
    Py_ssize_t *raise_index = NULL;   /* per ref: exceptions[] index, or -1 */
    text_t text = {NULL, 0, 0};

    if (parse_pieces(pieces_list, &pieces, &npieces) < 0) {
        return NULL;
    }
    run_starts = PyMem_Calloc(nruns ? (size_t)nruns : 1, sizeof(int64_t));
    run_json = PyMem_Calloc(nruns ? (size_t)nruns : 1, sizeof(PyObject *));
    if (run_starts == NULL || run_json == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nruns; i++) {
        run_starts[i] = PyLong_AsLongLong(PyList_GET_ITEM(starts_list, i));
        if (run_starts[i] == -1 && PyErr_Occurred()) {
            goto done;
        }
        run_json[i] = json_text(PyList_GET_ITEM(names_list, i));
        if (run_json[i] == NULL) {
            goto done;
        }
    }
    if (collect_refs(pieces, npieces, &refs, &n, &ids) < 0) {
        goto done;
    }
    span_for_visit = PyDict_New();
    raised_span = PyDict_New();
    raise_index = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Py_ssize_t));
    if (span_for_visit == NULL || raised_span == NULL || raise_index == NULL) {
        if (raise_index == NULL) {
            PyErr_NoMemory();
        }
        goto done;
    }
    /* The exception a span raised: the last span of the raising function's name. */
    for (Py_ssize_t i = 0; i < n; i++) {
        raise_index[i] = -1;
    }
    if (PyDict_GET_SIZE(raisers) > 0) {
        for (Py_ssize_t i = n - 1;
             i >= 0 && PyDict_GET_SIZE(raised_span) < PyDict_GET_SIZE(raisers); i--) {
            span_t *s = &pieces[refs[i].piece].block->spans.v[refs[i].index];
            PyObject *described = naming_describe(self, s->key, s->kind == SK_C_CALL);
            if (described == NULL) {
                goto done;
            }
            PyObject *name = PyTuple_GET_ITEM(described, 1);
            PyObject *exc = PyDict_GetItemWithError(raisers, name);
            if (exc == NULL) {
                if (PyErr_Occurred()) {
                    goto done;
                }
                continue;
            }
            int seen = PyDict_Contains(raised_span, name);
            if (seen < 0) {
                goto done;
            }
            if (seen) {
                continue;
            }
            raise_index[i] = PyLong_AsSsize_t(exc);
            PyObject *id = PyLong_FromLongLong(refs[i].new_id);
            if (id == NULL || PyDict_SetItem(raised_span, name, id) < 0) {
                Py_XDECREF(id);
                goto done;
            }
            Py_DECREF(id);
        }
    }
    if (TEXT_LIT(&text, "[") < 0) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        ref_t *r = &refs[i];
        piece_t *pc = &pieces[r->piece];
        span_t *s = &pc->block->spans.v[r->index];
        PyObject *described = naming_describe(self, s->key, s->kind == SK_C_CALL);
        if (described == NULL) {
            goto done;
        }
        PyObject *fragment = PyTuple_GET_ITEM(described, 0);
        int64_t parent = 0;
        if (r->parent_sid != 0) {
            Py_ssize_t at = idmap_get(&ids, r->piece, r->parent_sid);
            parent = at >= 0 ? refs[at].new_id : 0;
        }
        if ((i && TEXT_LIT(&text, ",") < 0) || TEXT_LIT(&text, "{\"id\":") < 0 ||
            text_int(&text, r->new_id) < 0 || TEXT_LIT(&text, ",\"parent\":") < 0 ||
            (parent ? text_int(&text, parent) : TEXT_LIT(&text, "null")) < 0 ||
            TEXT_LIT(&text, ",\"thread\":\"") < 0 ||
            text_add(&text, pc->thread, (size_t)pc->thread_len) < 0 ||
            TEXT_LIT(&text, "\",") < 0 ||
            text_add(&text, PyBytes_AS_STRING(fragment), (size_t)PyBytes_GET_SIZE(fragment)) < 0 ||
            TEXT_LIT(&text, ",\"start_ns\":") < 0 || text_int(&text, r->start - base) < 0 ||
            TEXT_LIT(&text, ",\"end_ns\":") < 0 || text_int(&text, r->end - base) < 0 ||
            TEXT_LIT(&text, ",\"kind\":\"") < 0 ||
            text_add(&text, span_kind_text[s->kind], strlen(span_kind_text[s->kind])) < 0 ||
            TEXT_LIT(&text, "\",\"stage\":") < 0) {
            goto done;
        }
        if (nruns == 0) {
            if (TEXT_LIT(&text, "null") < 0) {
                goto done;
            }
        }
        else {
            /* bisect_right(starts, start) - 1, at least 0 */
            Py_ssize_t lo = 0, hi = nruns;
            while (lo < hi) {
                Py_ssize_t mid = (lo + hi) / 2;
                if (r->start < run_starts[mid]) {
                    hi = mid;
                }
                else {
                    lo = mid + 1;
                }
            }
            Py_ssize_t at = lo > 0 ? lo - 1 : 0;
            if (text_add(&text, PyBytes_AS_STRING(run_json[at]),
                         (size_t)PyBytes_GET_SIZE(run_json[at])) < 0) {
                goto done;
            }
        }
        if (r->clipped && TEXT_LIT(&text, ",\"clipped\":true") < 0) {
            goto done;
        }
        if (s->layer != NULL) {
            PyObject *key = PyLong_FromVoidPtr(s->layer);
            PyObject *index = key ? PyDict_GetItemWithError(visit_index, key) : NULL;
            if (index == NULL && PyErr_Occurred()) {
                Py_XDECREF(key);
                goto done;
            }
            if (index != NULL) {
                PyObject *id = PyLong_FromLongLong(r->new_id);
                long long layer = PyLong_AsLongLong(index);
                if (id == NULL || PyDict_SetItem(span_for_visit, key, id) < 0 ||
                    (layer == -1 && PyErr_Occurred()) ||
                    TEXT_LIT(&text, ",\"layer\":") < 0 || text_int(&text, layer) < 0) {
                    Py_XDECREF(id);
                    Py_DECREF(key);
                    goto done;
                }
                Py_DECREF(id);
            }
            Py_XDECREF(key);
        }
        if (raise_index[i] >= 0 && (TEXT_LIT(&text, ",\"exception\":") < 0 ||
                                    text_int(&text, raise_index[i]) < 0)) {
            goto done;
        }
        if (TEXT_LIT(&text, "}") < 0) {
            goto done;
        }
    }
    if (TEXT_LIT(&text, "]") < 0) {
        goto done;
    }
    {
        PyObject *json = PyUnicode_DecodeUTF8(text.p, (Py_ssize_t)text.n, "strict");
        if (json != NULL) {
            result = Py_BuildValue("(NnOO)", json, n, span_for_visit, raised_span);
        }
    }
done:
    PyMem_Free(text.p);
    PyMem_Free(raise_index);
    Py_XDECREF(span_for_visit);
    Py_XDECREF(raised_span);
    if (run_json != NULL) {
        for (Py_ssize_t i = 0; i < nruns; i++) {
            Py_XDECREF(run_json[i]);
        }
    }
    PyMem_Free(run_json);
    PyMem_Free(run_starts);
    PyMem_Free(refs);
    idmap_free(&ids);
    PyMem_Free(pieces);
    return result;
}

static PyMethodDef Naming_methods[] = {
    {"named", (PyCFunction)Naming_named, METH_O,
     "named(pieces) -> [(start, end, stage)] for calls whose name sets a stage."},
    {"render", (PyCFunction)Naming_render, METH_VARARGS,
     "render(pieces, base, run_starts, run_names, visit_index, raisers) -> "
     "(spans JSON, count, span_for_visit, raised_span)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Naming_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer._crecorder.Naming",
    .tp_basicsize = sizeof(Naming),
    .tp_dealloc = (destructor)Naming_dealloc,
    .tp_traverse = (traverseproc)Naming_traverse,
    .tp_clear = (inquiry)Naming_clear,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "What traces say about each code object and C function, asked once.",
    .tp_methods = Naming_methods,
    .tp_new = Naming_new,
};

static int
spans_module_init(PyObject *m)
{
    for (int k = 0; k < SK_COUNT; k++) {
        span_kind_names[k] = PyUnicode_InternFromString(span_kind_text[k]);
        if (span_kind_names[k] == NULL) {
            return -1;
        }
    }
    if (PyType_Ready(&EventBlock_Type) < 0 || PyType_Ready(&SpanBlock_Type) < 0 ||
        PyType_Ready(&SpanCore_Type) < 0 || PyType_Ready(&Naming_Type) < 0) {
        return -1;
    }
    if (PyModule_AddType(m, &Naming_Type) < 0 || PyModule_AddType(m, &SpanCore_Type) < 0 ||
        PyModule_AddType(m, &SpanBlock_Type) < 0 || PyModule_AddType(m, &EventBlock_Type) < 0) {
        return -1;
    }
    return 0;
}
