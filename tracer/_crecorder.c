/*
 * tracer._crecorder: the compiled call recorder.
 *
 * It records what tracer/pyrecorder.py records (that file is the readable reference),
 * but the profile hook is a C function and events are kept as 16-byte structs in
 * per-thread chunk lists; the Python tuples (time_ns, event, obj) are only built in
 * drain(), on the assembler's thread, off the request's path. One difference, invisible
 * in traces: see CFUNC_SLOTS for which bound-method object a C method call records.
 *
 * Concurrency: every operation on a buffer runs while holding the GIL, and none of them
 * runs Python code (or allocates Python objects) between reading a buffer's chunk list
 * and updating it. So the hook, mark() and drain() never see a half-updated buffer, and
 * drain() can detach a thread's whole chunk list with two pointer stores while that
 * thread keeps appending to fresh chunks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Event kinds, in the order of the strings in kind_names. */
enum { EV_CALL, EV_RETURN, EV_C_CALL, EV_C_RETURN, EV_C_EXCEPTION, EV_MARK, EV_COUNT };
static const char *const kind_text[EV_COUNT] = {
    "call", "return", "c_call", "c_return", "c_exception", "mark",
};
static PyObject *kind_names[EV_COUNT];

/* The kind lives in the low 3 bits of the stamp word, which keeps an event at 16 bytes
 * instead of 24: the 61 bits left hold decades of stamps counted from module import. */
#define KIND_BITS 3
#define KIND_MASK ((uint64_t)((1u << KIND_BITS) - 1))

typedef struct {
    uint64_t time_kind;   /* ((raw_stamp() - stamp_base) << KIND_BITS) | kind */
    PyObject *obj;        /* strong reference, handed to the tuple in drain() */
} event_t;

/* 64 KiB per chunk: few enough allocations that the hook almost never calls malloc,
 * small enough that an idle thread's last partial chunk costs little. */
#define CHUNK_BYTES 65536
typedef struct chunk {
    struct chunk *next;
    Py_ssize_t used;
    event_t ev[(CHUNK_BYTES - sizeof(void *) - sizeof(Py_ssize_t)) / sizeof(event_t)];
} chunk_t;
#define CHUNK_EVENTS ((Py_ssize_t)(sizeof(((chunk_t *)0)->ev) / sizeof(event_t)))

static inline uint64_t
now_ns(void)
{
    /* The clock time.perf_counter_ns reads on Linux, so the two interleave exactly. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Event stamps. Reading CLOCK_MONOTONIC costs ~25 ns even through the vDSO, the TSC
 * ~10 ns, and a request makes a couple of thousand events. So where the kernel itself
 * drives CLOCK_MONOTONIC from the TSC (then the two are linear in each other between NTP
 * frequency adjustments), the hook stores raw TSC ticks and drain() maps them to
 * CLOCK_MONOTONIC ns by interpolating between two (ticks, ns) pairs: one read at the
 * previous drain, one at this drain. Every event of a drain lies between those two
 * readings, so the mapping's error is that of reading a pair (tens of ns), not a
 * calibration error growing with time. Elsewhere stamps are CLOCK_MONOTONIC ns. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

static int use_tsc = 0;
static uint64_t stamp_base = 0;   /* stamps are stored relative to this, to fit 61 bits */
static double nominal_ns_per_tick = 1.0;

static inline uint64_t
raw_stamp(void)
{
#if HAVE_TSC
    if (use_tsc) {
        return __rdtsc();
    }
#endif
    return now_ns();
}

typedef struct {
    uint64_t raw;   /* raw_stamp() */
    uint64_t ns;    /* CLOCK_MONOTONIC */
} clock_pair_t;

static clock_pair_t
read_clock_pair(void)
{
    clock_pair_t best = {0, 0};
    if (!use_tsc) {
        best.ns = best.raw = now_ns();
        return best;
    }
    /* Bracket the clock read with ticks; the tightest of a few tries pins it best. */
    uint64_t best_width = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t before = raw_stamp();
        uint64_t ns = now_ns();
        uint64_t after = raw_stamp();
        if (after >= before && after - before < best_width) {
            best_width = after - before;
            best.raw = before + (after - before) / 2;
            best.ns = ns;
        }
    }
    if (best_width == UINT64_MAX) {   /* ticks went backwards every time: no TSC then */
        best.ns = now_ns();
        best.raw = raw_stamp();
    }
    return best;
}

/* Maps raw stamps between two pairs to ns. */
typedef struct {
    clock_pair_t from;
    double ns_per_tick;
} clock_map_t;

static clock_map_t
clock_map(clock_pair_t from, clock_pair_t to, double fallback)
{
    clock_map_t map = {from, fallback};
    if (!use_tsc) {
        map.ns_per_tick = 1.0;
    }
    else if (to.raw > from.raw + 100000 && to.ns > from.ns) {
        map.ns_per_tick = (double)(to.ns - from.ns) / (double)(to.raw - from.raw);
    }
    return map;
}

static inline uint64_t
map_stamp(const clock_map_t *map, uint64_t raw)
{
    if (!use_tsc) {
        return raw;
    }
    double delta = ((double)(int64_t)(raw - map->from.raw)) * map->ns_per_tick;
    return (uint64_t)((int64_t)map->from.ns + (int64_t)(delta + (delta < 0 ? -0.5 : 0.5)));
}

/* Whether the kernel's clocksource is the TSC; PYLON_TRACE_CLOCK=monotonic forbids it. */
static int
tsc_usable(void)
{
#if HAVE_TSC
    const char *forced = getenv("PYLON_TRACE_CLOCK");
    if (forced != NULL && strcmp(forced, "monotonic") == 0) {
        return 0;
    }
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (f == NULL) {
        return 0;
    }
    char name[32] = {0};
    int ok = fgets(name, sizeof(name), f) != NULL && strncmp(name, "tsc", 3) == 0 &&
             (name[3] == '\n' || name[3] == '\0');
    fclose(f);
    return ok;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------------------------ */
/* One thread's buffer. It is also the profile hook's `obj` argument, so the hook reaches
 * its buffer without any lookup (the C twin of pyrecorder's per-thread closure). */

/* C methods called on an instance reach the hook as a bound method that CPython makes for
 * that one call (list.append, dict.get, str.join ...: a third of a request's events).
 * Keeping each alive until the next drain costs ~70 bytes per call and a good part of
 * the hook's time (fresh allocations, more work for the garbage collector). Within one
 * drain window, a thread's later calls of the same method on the same type are recorded
 * with the first such bound method instead: it names the same function, owner type and
 * module, which is all a trace uses. The cache is emptied at every drain, so it keeps
 * nothing alive longer than the events themselves do. */
#define CFUNC_SLOTS 128
typedef struct {
    const PyMethodDef *ml;
    PyTypeObject *type;
    PyObject *rep;           /* strong reference */
} cfunc_slot_t;

typedef struct {
    PyObject_HEAD
    uint64_t owner;          /* serial of the Recorder that made it */
    unsigned long ident;     /* threading.get_ident() of its thread */
    chunk_t *head;
    chunk_t *tail;
    Py_ssize_t pending;      /* events buffered, not yet drained */
    Py_ssize_t dropped;      /* events lost because a chunk could not be allocated */
    cfunc_slot_t cfuncs[CFUNC_SLOTS];
} ThreadBuffer;

static PyTypeObject ThreadBuffer_Type;

static void
free_chain(chunk_t *c)
{
    while (c != NULL) {
        chunk_t *next = c->next;
        for (Py_ssize_t i = 0; i < c->used; i++) {
            Py_DECREF(c->ev[i].obj);
        }
        PyMem_RawFree(c);
        c = next;
    }
}

static void
ThreadBuffer_dealloc(ThreadBuffer *self)
{
    chunk_t *chain = self->head;
    self->head = self->tail = NULL;
    self->pending = 0;
    free_chain(chain);
    for (int i = 0; i < CFUNC_SLOTS; i++) {
        Py_CLEAR(self->cfuncs[i].rep);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Append one event stamped t (a raw_stamp()); steals the reference to obj. Never raises. */
static inline void
buffer_append(ThreadBuffer *b, uint64_t t, int kind, PyObject *obj)
{
    chunk_t *c = b->tail;
    if (c == NULL || c->used == CHUNK_EVENTS) {
        chunk_t *fresh = PyMem_RawMalloc(sizeof(chunk_t));
        if (fresh == NULL) {
            b->dropped++;
            Py_DECREF(obj);
            return;
        }
        fresh->next = NULL;
        fresh->used = 0;
        if (c == NULL) {
            b->head = fresh;
        }
        else {
            c->next = fresh;
        }
        b->tail = c = fresh;
    }
    event_t *e = &c->ev[c->used++];
    e->time_kind = ((t - stamp_base) << KIND_BITS) | (uint64_t)kind;
    e->obj = obj;
    b->pending++;
}

static PyTypeObject ThreadBuffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer._crecorder.ThreadBuffer",
    .tp_basicsize = sizeof(ThreadBuffer),
    .tp_dealloc = (destructor)ThreadBuffer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One thread's event buffer (internal).",
};

/* A new reference to what the event records for the C function `arg` (see CFUNC_SLOTS). */
static inline PyObject *
recorded_cfunc(ThreadBuffer *b, PyObject *arg)
{
    if (PyCFunction_Check(arg)) {
        PyCFunctionObject *f = (PyCFunctionObject *)arg;
        PyObject *self = f->m_self;
        /* Functions of modules and classes are long-lived objects already. */
        if (self != NULL && !PyModule_Check(self) && !PyType_Check(self)) {
            PyTypeObject *type = Py_TYPE(self);
            uintptr_t h = ((uintptr_t)f->m_ml >> 4) ^ ((uintptr_t)type >> 6);
            cfunc_slot_t *slot = &b->cfuncs[h & (CFUNC_SLOTS - 1)];
            if (slot->ml == f->m_ml && slot->type == type) {
                return Py_NewRef(slot->rep);
            }
            /* The slot's previous holder is still referenced by its own events. */
            Py_XSETREF(slot->rep, Py_NewRef(arg));
            slot->ml = f->m_ml;
            slot->type = type;
        }
    }
    return Py_NewRef(arg);
}

/* ------------------------------------------------------------------------------------ */
/* The profile hook: as cheap as it can be, it decides nothing. */

static int
profile_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    ThreadBuffer *b = (ThreadBuffer *)obj;
    PyObject *o;
    int kind;
    switch (what) {
    case PyTrace_CALL:
        kind = EV_CALL;
        o = (PyObject *)PyFrame_GetCode(frame);   /* new reference */
        break;
    case PyTrace_RETURN:
        kind = EV_RETURN;
        o = (PyObject *)PyFrame_GetCode(frame);
        break;
    case PyTrace_C_CALL:
        kind = EV_C_CALL;
        o = recorded_cfunc(b, arg);
        break;
    case PyTrace_C_RETURN:
        kind = EV_C_RETURN;
        o = recorded_cfunc(b, arg);
        break;
    case PyTrace_C_EXCEPTION:
        kind = EV_C_EXCEPTION;
        o = recorded_cfunc(b, arg);
        break;
    default:
        return 0;
    }
    buffer_append(b, raw_stamp(), kind, o);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* The recorder: a registry of thread buffers keyed by thread ident. */

typedef struct {
    PyObject_HEAD
    PyObject *buffers;        /* dict: ident (int) -> ThreadBuffer */
    PyObject *retired_hook;   /* the last bootstrap callable a thread swapped out */
    uint64_t serial;
    long long drained;        /* events handed out by drain() */
    long long dropped_gone;   /* drops counted in buffers since forgotten */
    clock_pair_t last_pair;   /* read at the previous drain (or at creation) */
    double ns_per_tick;       /* the last good mapping, for drains too close together */
} Recorder;

static uint64_t next_serial = 1;

static PyObject *
Recorder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Recorder *self = (Recorder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->buffers = PyDict_New();
    if (self->buffers == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->serial = next_serial++;
    self->last_pair = read_clock_pair();
    self->ns_per_tick = nominal_ns_per_tick;
    return (PyObject *)self;
}

static int
Recorder_traverse(Recorder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->buffers);
    Py_VISIT(self->retired_hook);
    return 0;
}

static int
Recorder_clear(Recorder *self)
{
    Py_CLEAR(self->buffers);
    Py_CLEAR(self->retired_hook);
    return 0;
}

static void
Recorder_dealloc(Recorder *self)
{
    /* A heap subtype's reference to its type is released by subtype_dealloc. */
    PyObject_GC_UnTrack(self);
    Recorder_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* This thread's buffer, made on first use. Borrowed reference, or NULL with an error. */
static ThreadBuffer *
buffer_for_current_thread(Recorder *self)
{
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_profilefunc == profile_hook) {
        ThreadBuffer *b = (ThreadBuffer *)ts->c_profileobj;
        if (b->owner == self->serial) {
            return b;
        }
    }
    unsigned long ident = PyThread_get_thread_ident();
    PyObject *key = PyLong_FromUnsignedLong(ident);
    if (key == NULL) {
        return NULL;
    }
    ThreadBuffer *b = (ThreadBuffer *)PyDict_GetItemWithError(self->buffers, key);
    if (b == NULL && !PyErr_Occurred()) {
        b = PyObject_New(ThreadBuffer, &ThreadBuffer_Type);
        if (b != NULL) {
            b->owner = self->serial;
            b->ident = ident;
            b->head = b->tail = NULL;
            b->pending = 0;
            b->dropped = 0;
            memset(b->cfuncs, 0, sizeof(b->cfuncs));
            int failed = PyDict_SetItem(self->buffers, key, (PyObject *)b);
            Py_DECREF(b);   /* the registry keeps it */
            if (failed) {
                b = NULL;
            }
        }
    }
    Py_DECREF(key);
    return b;
}

static PyObject *
Recorder_attach_current_thread(Recorder *self, PyObject *Py_UNUSED(ignored))
{
    ThreadBuffer *b = buffer_for_current_thread(self);
    if (b == NULL) {
        return NULL;
    }
    /* Audit hooks run inside PyEval_SetProfile: keep the buffer alive whatever they do. */
    Py_INCREF(b);
    PyEval_SetProfile(profile_hook, (PyObject *)b);
    Py_DECREF(b);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Recorder_detach_current_thread(Recorder *self, PyObject *Py_UNUSED(ignored))
{
    PyEval_SetProfile(NULL, NULL);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* threading.setprofile's hook: the first event on a new thread installs the C hook there
 * and is recorded like any other. */
static PyObject *
Recorder_bootstrap(Recorder *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_bootstrap(frame, event, arg)");
        return NULL;
    }
    PyObject *frame = args[0], *event = args[1], *arg = args[2];
    ThreadBuffer *b = buffer_for_current_thread(self);
    if (b == NULL) {
        return NULL;
    }
    /* Swapping the profile function drops this thread's reference to the callable now
     * running (this bound method). If uninstall() has meanwhile cleared
     * threading._profile_hook, that was the last one: keep it alive past our return. */
    PyObject *running = Py_XNewRef(PyThreadState_Get()->c_profileobj);
    Py_INCREF(b);   /* audit hooks run inside PyEval_SetProfile, and may run anything */
    PyEval_SetProfile(profile_hook, (PyObject *)b);
    Py_XSETREF(self->retired_hook, running);
    int kind = -1;
    for (int k = 0; k < EV_MARK; k++) {
        if (PyUnicode_Check(event) &&
            PyUnicode_CompareWithASCIIString(event, kind_text[k]) == 0) {
            kind = k;
            break;
        }
    }
    if (kind == EV_CALL || kind == EV_RETURN) {
        if (PyFrame_Check(frame)) {
            buffer_append(b, raw_stamp(), kind,
                          (PyObject *)PyFrame_GetCode((PyFrameObject *)frame));
        }
    }
    else if (kind >= 0) {
        buffer_append(b, raw_stamp(), kind, recorded_cfunc(b, arg));
    }
    Py_DECREF(b);
    Py_RETURN_NONE;
}

static PyObject *
Recorder_mark(Recorder *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "mark(name, payload=None)");
        return NULL;
    }
    /* Stamp first, as pyrecorder does: the marker's time is the moment it was asked for. */
    uint64_t t = raw_stamp();
    /* The pair first: allocating it may run the collector and so any Python code,
     * which must not find the buffer borrowed below half-used. */
    PyObject *pair = PyTuple_Pack(2, args[0], nargs == 2 ? args[1] : Py_None);
    if (pair == NULL) {
        return NULL;
    }
    ThreadBuffer *b = buffer_for_current_thread(self);
    if (b == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    buffer_append(b, t, EV_MARK, pair);
    Py_RETURN_NONE;
}

/* The events of one detached chain as a list of (time_ns, event, obj); frees the chain.
 * References move from the chunks into the tuples. */
static PyObject *
chain_to_list(chunk_t *chain, Py_ssize_t count, const clock_map_t *map)
{
    PyObject *list = PyList_New(count);
    if (list == NULL) {
        free_chain(chain);
        return NULL;
    }
    /* Every tuple made below counts towards a young-generation collection, and each of
     * those would walk this list as far as it is filled: quadratic in the drain's size.
     * Nothing can refer to the list before it is returned, so it is tracked only then. */
    PyObject_GC_UnTrack(list);
    Py_ssize_t i = 0;
    chunk_t *c = chain;
    while (c != NULL) {
        Py_ssize_t j = 0;
        for (; j < c->used; j++) {
            event_t *e = &c->ev[j];
            PyObject *tuple = PyTuple_New(3);
            PyObject *t = PyLong_FromUnsignedLongLong(
                map_stamp(map, (e->time_kind >> KIND_BITS) + stamp_base));
            if (tuple == NULL || t == NULL) {
                Py_XDECREF(tuple);
                Py_XDECREF(t);
                goto fail;
            }
            PyTuple_SET_ITEM(tuple, 0, t);
            PyTuple_SET_ITEM(tuple, 1, Py_NewRef(kind_names[e->time_kind & KIND_MASK]));
            PyTuple_SET_ITEM(tuple, 2, e->obj);
            e->obj = NULL;
            /* Nothing but the drained list can ever refer to an event tuple, so it cannot
             * be part of a reference cycle: untracked, the collector never walks the
             * hundreds of thousands of them a busy drain makes (which cost more than
             * building them). */
            PyObject_GC_UnTrack(tuple);
            PyList_SET_ITEM(list, i++, tuple);
        }
        chunk_t *next = c->next;
        PyMem_RawFree(c);
        c = next;
        continue;
    fail:
        /* Release what was not moved yet, then the partly filled list. */
        for (; j < c->used; j++) {
            Py_XDECREF(c->ev[j].obj);
        }
        {
            chunk_t *next = c->next;
            PyMem_RawFree(c);
            free_chain(next);
        }
        for (; i < count; i++) {
            PyList_SET_ITEM(list, i, Py_NewRef(Py_None));
        }
        Py_DECREF(list);
        return NULL;
    }
    /* A chain's count always matches its events; anything else is a bug worth seeing. */
    if (i != count) {
        for (; i < count; i++) {
            PyList_SET_ITEM(list, i, Py_NewRef(Py_None));
        }
        Py_DECREF(list);
        PyErr_SetString(PyExc_SystemError, "_crecorder: event count mismatch");
        return NULL;
    }
    PyObject_GC_Track(list);
    return list;
}

#include "_crecorder_spans.c"

typedef struct {
    unsigned long ident;
    chunk_t *chain;
    Py_ssize_t count;
} taken_t;

/* drain() and drain_blocks(): a thread's events as a list of tuples, or as an EventBlock
 * that tracer._crecorder.SpanCore consumes without making tuples. */
static PyObject *
drain_impl(Recorder *self, int as_blocks)
{
    /* A snapshot of the registry; building it may run the GC, which may append. */
    PyObject *snapshot = PyDict_Values(self->buffers);
    if (snapshot == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(snapshot);
    taken_t *taken = PyMem_Malloc((n ? n : 1) * sizeof(taken_t));
    if (taken == NULL) {
        Py_DECREF(snapshot);
        return PyErr_NoMemory();
    }
    /* The C-method caches' references are released once the cut is made (releasing may
     * run Python code); without room to note them, the caches simply stay. */
    PyObject **released = PyMem_Malloc((n ? n : 1) * CFUNC_SLOTS * sizeof(PyObject *));
    Py_ssize_t nreleased = 0;
    /* Detach every chain with no Python code in between: a consistent cut. */
    Py_ssize_t ntaken = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        ThreadBuffer *b = (ThreadBuffer *)PyList_GET_ITEM(snapshot, k);
        if (released != NULL) {
            for (int i = 0; i < CFUNC_SLOTS; i++) {
                if (b->cfuncs[i].rep != NULL) {
                    released[nreleased++] = b->cfuncs[i].rep;
                    b->cfuncs[i].rep = NULL;
                    b->cfuncs[i].ml = NULL;
                    b->cfuncs[i].type = NULL;
                }
            }
        }
        if (b->pending == 0) {
            continue;
        }
        taken[ntaken].ident = b->ident;
        taken[ntaken].chain = b->head;
        taken[ntaken].count = b->pending;
        ntaken++;
        b->head = b->tail = NULL;
        b->pending = 0;
    }
    /* Every detached event was stamped after last_pair and before this reading. */
    clock_pair_t pair = read_clock_pair();
    clock_map_t map = clock_map(self->last_pair, pair, self->ns_per_tick);
    self->last_pair = pair;
    self->ns_per_tick = map.ns_per_tick;
    PyObject *result = PyList_New(0);
    /* The event tuples are untracked as soon as they are made, so the collections their
     * allocations would trigger (one per 700) find nothing to free: skip them. */
    int gc_was_enabled = PyGC_Disable();
    Py_ssize_t k = 0;
    for (; result != NULL && k < ntaken; k++) {
        PyObject *events = as_blocks ? event_block_new(taken[k].chain, taken[k].count, &map)
                                     : chain_to_list(taken[k].chain, taken[k].count, &map);
        taken[k].chain = NULL;
        PyObject *item = events ? Py_BuildValue("(kN)", taken[k].ident, events) : NULL;
        if (item == NULL || PyList_Append(result, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(result);
            k++;
            break;
        }
        self->drained += taken[k].count;
        Py_DECREF(item);
    }
    if (gc_was_enabled) {
        PyGC_Enable();
    }
    for (; k < ntaken; k++) {   /* after a failure: the rest is lost, but not leaked */
        free_chain(taken[k].chain);
    }
    PyMem_Free(taken);
    for (Py_ssize_t i = 0; i < nreleased; i++) {
        Py_DECREF(released[i]);
    }
    PyMem_Free(released);
    if (result == NULL) {
        Py_DECREF(snapshot);
        return NULL;
    }
    /* Forget empty buffers no thread's hook holds (registry + snapshot are the only
     * references): their thread ended or stopped being traced. A thread that marks
     * again gets a fresh buffer under the same ident. */
    for (Py_ssize_t j = 0; j < n; j++) {
        ThreadBuffer *b = (ThreadBuffer *)PyList_GET_ITEM(snapshot, j);
        if (b->pending != 0 || Py_REFCNT(b) != 2) {
            continue;
        }
        PyObject *key = PyLong_FromUnsignedLong(b->ident);
        if (key == NULL) {
            PyErr_Clear();
            continue;
        }
        PyObject *current = PyDict_GetItemWithError(self->buffers, key);
        if (current == (PyObject *)b) {
            self->dropped_gone += b->dropped;
            if (PyDict_DelItem(self->buffers, key) < 0) {
                PyErr_Clear();
            }
        }
        else if (current == NULL) {
            PyErr_Clear();
        }
        Py_DECREF(key);
    }
    Py_DECREF(snapshot);
    return result;
}

static PyObject *
Recorder_drain(Recorder *self, PyObject *Py_UNUSED(ignored))
{
    return drain_impl(self, 0);
}

static PyObject *
Recorder_drain_blocks(Recorder *self, PyObject *Py_UNUSED(ignored))
{
    return drain_impl(self, 1);
}

/* Called for every request (the session's backlog check): a walk over a few buffers. */
static PyObject *
Recorder_pending(Recorder *self, PyObject *Py_UNUSED(ignored))
{
    Py_ssize_t pending = 0;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(self->buffers, &pos, &key, &value)) {
        pending += ((ThreadBuffer *)value)->pending;
    }
    return PyLong_FromSsize_t(pending);
}

static PyObject *
Recorder_stats(Recorder *self, PyObject *Py_UNUSED(ignored))
{
    long long pending = 0, dropped = self->dropped_gone, chunks = 0;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(self->buffers, &pos, &key, &value)) {
        ThreadBuffer *b = (ThreadBuffer *)value;
        pending += b->pending;
        dropped += b->dropped;
        for (chunk_t *c = b->head; c != NULL; c = c->next) {
            chunks++;
        }
    }
    return Py_BuildValue("{sLsLsLsLsn}", "events", self->drained + pending,
                         "dropped", dropped, "pending", pending,
                         "buffer_bytes", chunks * (long long)sizeof(chunk_t),
                         "threads", PyDict_GET_SIZE(self->buffers));
}

static PyMethodDef Recorder_methods[] = {
    {"attach_current_thread", (PyCFunction)Recorder_attach_current_thread, METH_NOARGS,
     "Install the C profile hook on the calling thread."},
    {"detach_current_thread", (PyCFunction)Recorder_detach_current_thread, METH_NOARGS,
     "Remove the profile hook from the calling thread."},
    {"_bootstrap", (PyCFunction)(void (*)(void))Recorder_bootstrap, METH_FASTCALL,
     "threading.setprofile hook: installs the C hook on a new thread."},
    {"mark", (PyCFunction)(void (*)(void))Recorder_mark, METH_FASTCALL,
     "mark(name, payload=None): a marker in this thread's buffer, in order with its calls."},
    {"drain", (PyCFunction)Recorder_drain, METH_NOARGS,
     "Take everything buffered so far: [(thread_ident, [(time_ns, event, obj), ...])]."},
    {"drain_blocks", (PyCFunction)Recorder_drain_blocks, METH_NOARGS,
     "Take everything buffered so far: [(thread_ident, EventBlock)]."},
    {"pending", (PyCFunction)Recorder_pending, METH_NOARGS,
     "Events buffered and not drained yet."},
    {"stats", (PyCFunction)Recorder_stats, METH_NOARGS,
     "Events recorded, dropped and pending; bytes held by event buffers."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Recorder_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer._crecorder.Recorder",
    .tp_basicsize = sizeof(Recorder),
    .tp_dealloc = (destructor)Recorder_dealloc,
    .tp_traverse = (traverseproc)Recorder_traverse,
    .tp_clear = (inquiry)Recorder_clear,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Per-thread call recorder with a C profile hook (see tracer/crecorder.py).",
    .tp_methods = Recorder_methods,
    .tp_new = Recorder_new,
};

/* For the benchmark: what any profile hook costs before it does anything, so that the
 * recorder's own share of the overhead can be told from the interpreter's. */
static int
null_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    return 0;
}

static PyObject *
attach_null_hook(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    PyEval_SetProfile(null_hook, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"event_block", event_block_from_events, METH_O,
     "event_block(events): an EventBlock of (time_ns, event, obj) tuples (for tests)."},
    {"attach_null_hook", attach_null_hook, METH_NOARGS,
     "Install a profile hook that records nothing on this thread (benchmark floor); "
     "sys.setprofile(None) removes it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tracer._crecorder",
    .m_doc = "The compiled call recorder behind tracer.crecorder.CRecorder.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__crecorder(void)
{
    use_tsc = tsc_usable();
    if (use_tsc) {
        /* A rough rate for drains that come too close together to measure their own. */
        clock_pair_t a = read_clock_pair(), b;
        do {
            b = read_clock_pair();
        } while (b.ns - a.ns < 2000000);
        if (b.raw > a.raw) {
            nominal_ns_per_tick = (double)(b.ns - a.ns) / (double)(b.raw - a.raw);
        }
        else {
            use_tsc = 0;
        }
    }
    /* Some slack below "now", in case another core's counter reads slightly behind. */
    uint64_t start = raw_stamp();
    stamp_base = start > ((uint64_t)1 << 32) ? start - ((uint64_t)1 << 32) : 0;
    for (int k = 0; k < EV_COUNT; k++) {
        kind_names[k] = PyUnicode_InternFromString(kind_text[k]);
        if (kind_names[k] == NULL) {
            return NULL;
        }
    }
    if (PyType_Ready(&ThreadBuffer_Type) < 0 || PyType_Ready(&Recorder_Type) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "EVENT_BYTES", (long)sizeof(event_t)) < 0 ||
        PyModule_AddIntConstant(m, "CHUNK_EVENTS", (long)CHUNK_EVENTS) < 0 ||
        PyModule_AddStringConstant(m, "CLOCK", use_tsc ? "tsc" : "monotonic") < 0 ||
        PyModule_AddType(m, &Recorder_Type) < 0 || spans_module_init(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
