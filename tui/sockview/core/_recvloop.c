/* The counted-body recv loops of sockview.core.fetch, compiled: see recvloop.py.
 *
 * recv_counted(sock, buffer, fill, batch, step, total, end, deadline, delay, t0,
 *              clock, times, sizes) -> (size, fill, total, now, error)
 *
 * Same arguments and results as recvloop.recv_counted (the Python loop). `clock` is
 * not called: this loop reads CLOCK_MONOTONIC, which is what time.perf_counter_ns
 * reads on Linux, and recvloop.loop_for hands it out only with that clock. `delay` is
 * not read (that needs the GIL): the caller passes a deadline of 0 while it is on.
 *
 * The GIL is released for the whole slice. Records go to a private C buffer and are
 * appended to `times` and `sizes` (array('q'), array('I')) with the GIL held, when
 * the slice ends, so that readers on other threads never see the arrays change under
 * them. So that no row waits long in that buffer while the server is silent, every recv
 * but the first of a slice does not block: when the socket is empty, the loop waits in
 * poll() for more, until the slice deadline or HOLD_MS, then returns.
 *
 * Reader(sock, ring, step, total, end, t0): the same loop on a thread of its own, which
 * never takes the GIL (see the Reader section below and recvloop.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Longest wait for more bytes with rows held back: the watchdog, which reports rows that
 * came just before the server went quiet, looks every 50 ms. */
#define HOLD_MS 10

/* Rows a slice holds before it returns: 48 KiB of stack, 10 ms at 400,000 recvs/s. */
#define ROWS 4096

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
extend(PyObject *array, const void *data, Py_ssize_t bytes)
{
    PyObject *done = PyObject_CallMethod(array, "frombytes", "y#", (const char *)data, bytes);
    if (done == NULL)
        return -1;
    Py_DECREF(done);
    return 0;
}

/* Append the rows; on failure an exception is set. */
static int
flush(PyObject *times, PyObject *sizes, const int64_t *t, const uint32_t *s, Py_ssize_t n)
{
    if (n == 0)
        return 0;
    /* times first: readers bound their reads by len(sizes). */
    if (extend(times, t, n * (Py_ssize_t)sizeof *t) < 0)
        return -1;
    return extend(sizes, s, n * (Py_ssize_t)sizeof *s);
}

static PyObject *
recv_counted(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 13) {
        PyErr_Format(PyExc_TypeError, "recv_counted takes 13 arguments (%zd given)", nargs);
        return NULL;
    }
    int fd = PyObject_AsFileDescriptor(args[0]);
    if (fd < 0)
        return NULL;
    Py_ssize_t fill = PyLong_AsSsize_t(args[2]);
    Py_ssize_t batch = PyLong_AsSsize_t(args[3]);
    Py_ssize_t step = PyLong_AsSsize_t(args[4]);
    long long total = PyLong_AsLongLong(args[5]);
    /* Past 2**63 - 1 is "never": the end of a body read until the close is 1 << 63. */
    int over = 0;
    long long end = PyLong_AsLongLongAndOverflow(args[6], &over);
    if (over > 0)
        end = LLONG_MAX;
    long long deadline = PyLong_AsLongLongAndOverflow(args[7], &over);
    if (over > 0)
        deadline = LLONG_MAX;
    long long t0 = PyLong_AsLongLong(args[9]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *times = args[11], *sizes = args[12];

    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_WRITABLE) < 0)
        return NULL;
    if (fill < 0 || step <= 0 || step > view.len - fill || step > (Py_ssize_t)UINT32_MAX) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "recv_counted: the buffer has no room for a recv");
        return NULL;
    }
    char *base = view.buf;

    int64_t t[ROWS];
    uint32_t s[ROWS];
    Py_ssize_t n = 0;
    ssize_t size = -1, last = 0;
    int64_t now = 0;
    int error = 0, interrupted = 0;

    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        size = recv(fd, base + fill, (size_t)step, n ? MSG_DONTWAIT : 0);
        if (size < 0) {
            int code = errno;
            if (code == EAGAIN || code == EWOULDBLOCK) {
                /* Only a non-blocking recv gets here, so n > 0 and `last` is its size. */
                now = now_ns();
                if (now >= deadline) {
                    size = last;
                    break;
                }
                struct pollfd wait = {fd, POLLIN, 0};
                long long left = deadline - now;
                int ms = left > HOLD_MS * 1000000LL ? HOLD_MS : (int)((left + 999999) / 1000000);
                int ready = poll(&wait, 1, ms);
                if (ready == 0) {
                    size = last; /* quiet for HOLD_MS: hand the rows over */
                    now = now_ns();
                    break;
                }
                if (ready > 0)
                    continue;
                code = errno;
            }
            if (code == EINTR) {
                /* As socket.recv_into does: run the signal handlers, go on unless one raised. */
                Py_BLOCK_THREADS
                interrupted = PyErr_CheckSignals() < 0;
                Py_UNBLOCK_THREADS
                if (!interrupted)
                    continue;
                break;
            }
            error = code;
            break;
        }
        now = now_ns();
        if (size == 0)
            break;
        last = size;
        total += size;
        t[n] = now - t0;
        s[n] = (uint32_t)size;
        n++;
        if (batch) {
            fill += size;
            if (fill >= batch)
                break;
            if (step > view.len - fill) /* a caller's batch larger than its buffer */
                break;
        }
        if (total >= end || now >= deadline || n == ROWS)
            break;
    }
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&view);
    if (interrupted) {
        /* Keep the rows that came, and the signal handler's exception. */
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        if (flush(times, sizes, t, s, n) < 0)
            PyErr_Clear();
        PyErr_Restore(type, value, traceback);
        return NULL;
    }
    if (flush(times, sizes, t, s, n) < 0)
        return NULL;
    PyObject *exc = Py_None;
    if (error) {
        size = -1;
        /* OSError(errno, text) is the subclass for errno: ConnectionResetError, ... */
        exc = PyObject_CallFunction(PyExc_OSError, "is", error, strerror(error));
        if (exc == NULL)
            return NULL;
    }
    else {
        Py_INCREF(exc);
    }
    return Py_BuildValue("nnLLN", (Py_ssize_t)size, fill, total, (long long)now, exc);
}

/* -- Reader: the counted-body loop on a thread that never takes the GIL --------------
 *
 * recv_counted needs the GIL at the end of every slice, to hand its rows (and a kept
 * batch) over. A thread of the UI holding it then keeps the socket unread for up to the
 * interpreter's switch interval (5 ms), the kernel's buffer fills and the server stalls:
 * the instrument disturbs what it measures. The Reader's own thread (a POSIX thread, all
 * signals blocked) only recvs, reads the clock and stores: the rows into a ring of
 * RING_ROWS (time, size) pairs, the bytes, when the body is kept, into the caller's ring
 * buffer (`ring`, a writable buffer), else over one recv-sized scratch buffer. The
 * fetch's thread collects what came with `collect()`, which waits without the GIL. The
 * reader waits only when a ring is full: the collector is behind by the whole ring.
 *
 * It ends at the end of the body (total >= end), at EOF (a recv of 0: the peer closed,
 * or the fetch was cancelled, which shuts the socket down), at an error, or when told
 * to with `stop()` (the delay was switched on). `collect()` reports the end only once
 * every row and byte before it was collected.
 *
 * Positions in the byte ring are counts of bytes since the start, so that "full" and
 * "empty" differ; a recv needs `step` contiguous bytes, so where fewer are left before
 * the ring's end, the reader skips to its start and publishes where it skipped from.
 * Everything the two threads share is read and written under `lock`; the reader takes
 * it every PUBLISH_EVERY recvs and before it waits, not per recv. */

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RING_ROWS (1 << 16)     /* 768 KiB: 160 ms at 400,000 recvs/s */
#define KICK_ROWS (RING_ROWS / 4) /* wake the collector before its deadline */
#define PUBLISH_EVERY 64
#define SLICE_NS 100000 /* the time slice asked for the reader: 0.1 ms, the kernel's least */

enum { RUNNING, ENDED_BODY, ENDED_EOF, ENDED_ERROR, ENDED_STOPPED };

typedef struct {
    PyObject_HEAD
    int fd;
    int wake;       /* an eventfd: stop() wakes the reader's poll() */
    Py_buffer ring; /* the caller's, when the body is kept */
    int has_ring;
    char *scratch;  /* one recv's worth, when it is not */
    uint64_t ring_size;
    uint64_t kick_bytes;
    size_t step;
    long long total0, end;
    int64_t t0;
    int64_t *times;
    uint32_t *sizes;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t more; /* the reader published: for the collector */
    pthread_cond_t room; /* the collector released: for the reader */
    /* Shared, under `lock`. Written by the reader: */
    uint64_t rows_pub, bytes_pub, skip_from;
    long long total_pub;
    int64_t quiet_since; /* when the socket was last found empty after rows came; or 0 */
    int ended, error;
    /* Written by the collector: */
    uint64_t rows_taken, bytes_taken;
    int waiting, stop;
    /* The collector's own: where the byte region it last returned ends. */
    uint64_t release;
} Reader;

static void
reader_publish(Reader *r, uint64_t rows, uint64_t w, long long total, uint64_t skip_from,
               uint64_t *rows_limit, uint64_t *bytes_limit)
{
    r->rows_pub = rows;
    r->bytes_pub = w;
    r->total_pub = total;
    r->skip_from = skip_from;
    *rows_limit = r->rows_taken + RING_ROWS;
    *bytes_limit = r->bytes_taken + r->ring_size;
    if (r->waiting &&
        (rows - r->rows_taken >= KICK_ROWS || (r->has_ring && w - r->bytes_taken >= r->kick_bytes)))
        pthread_cond_signal(&r->more);
}

/* The scheduler's attributes, for sched_getattr(2) and sched_setattr(2), called through
 * syscall(2): the C library of Debian 12 has no wrapper for them. */
struct sched_attributes {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

/* Ask for a short time slice for this thread (Linux 6.12 and later; older kernels ignore
 * it, and nothing breaks where the call fails). The reader sleeps in poll() most of the
 * time; with the default slice (about 1.4 ms here) a thread that is already running on
 * its CPU, such as the UI's, may keep it for that long after the bytes came, and the
 * next write of a paced server then arrives before the reader has read the last one.
 * A short slice lets the woken reader preempt it at once; its share of the CPU (its
 * nice value, its policy) stays as it was. */
static void
ask_for_a_short_slice(void)
{
#ifdef SYS_sched_getattr
    struct sched_attributes attr;
    memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, (unsigned)sizeof attr, 0) != 0)
        return;
    if (attr.policy != 0) /* SCHED_OTHER only: leave batch, idle and real-time alone */
        return;
    attr.size = sizeof attr;
    attr.flags = 0;
    attr.runtime = SLICE_NS;
    (void)syscall(SYS_sched_setattr, 0, &attr, 0);
#endif
}

static void *
reader_main(void *arg)
{
    Reader *r = arg;
    ask_for_a_short_slice();
    uint64_t rows = 0, w = 0, skip_from = UINT64_MAX;
    uint64_t rows_limit = RING_ROWS, bytes_limit = r->ring_size;
    long long total = r->total0;
    int ended = RUNNING, error = 0, unpublished = 0;
    char *base = r->has_ring ? r->ring.buf : r->scratch;
    const size_t step = r->step;

    while (ended == RUNNING) {
        char *into = base;
        if (r->has_ring) {
            uint64_t offset = w % r->ring_size;
            if (r->ring_size - offset < step) {
                skip_from = w;
                w += r->ring_size - offset;
                offset = 0;
            }
            into = base + offset;
        }
        if (rows >= rows_limit || (r->has_ring && w + step > bytes_limit)) {
            /* A ring is full: wait for the collector. */
            pthread_mutex_lock(&r->lock);
            reader_publish(r, rows, w, total, skip_from, &rows_limit, &bytes_limit);
            unpublished = 0;
            while (!r->stop && (rows >= rows_limit || (r->has_ring && w + step > bytes_limit))) {
                pthread_cond_signal(&r->more);
                pthread_cond_wait(&r->room, &r->lock);
                rows_limit = r->rows_taken + RING_ROWS;
                bytes_limit = r->bytes_taken + r->ring_size;
            }
            if (r->stop)
                ended = ENDED_STOPPED;
            pthread_mutex_unlock(&r->lock);
            continue;
        }
        ssize_t size = recv(r->fd, into, step, MSG_DONTWAIT);
        if (size < 0) {
            int code = errno;
            if (code == EAGAIN || code == EWOULDBLOCK) {
                /* Nothing to read: publish, then wait for bytes or for stop(). */
                pthread_mutex_lock(&r->lock);
                if (rows != r->rows_pub || r->quiet_since == 0)
                    r->quiet_since = now_ns();
                reader_publish(r, rows, w, total, skip_from, &rows_limit, &bytes_limit);
                unpublished = 0;
                int stop = r->stop;
                pthread_mutex_unlock(&r->lock);
                if (stop) {
                    ended = ENDED_STOPPED;
                    break;
                }
                struct pollfd fds[2] = {{r->fd, POLLIN, 0}, {r->wake, POLLIN, 0}};
                if (poll(fds, 2, -1) >= 0 || errno == EINTR)
                    continue;
                code = errno;
            }
            if (code == EINTR)
                continue;
            error = code;
            ended = ENDED_ERROR;
            break;
        }
        int64_t now = now_ns();
        if (size == 0) {
            ended = ENDED_EOF;
            break;
        }
        total += size;
        r->times[rows % RING_ROWS] = now - r->t0;
        r->sizes[rows % RING_ROWS] = (uint32_t)size;
        rows++;
        if (r->has_ring)
            w += (uint64_t)size;
        if (total >= r->end) {
            ended = ENDED_BODY;
            break;
        }
        if (++unpublished == PUBLISH_EVERY) {
            pthread_mutex_lock(&r->lock);
            r->quiet_since = 0;
            reader_publish(r, rows, w, total, skip_from, &rows_limit, &bytes_limit);
            unpublished = 0;
            if (r->stop)
                ended = ENDED_STOPPED;
            pthread_mutex_unlock(&r->lock);
        }
    }
    pthread_mutex_lock(&r->lock);
    reader_publish(r, rows, w, total, skip_from, &rows_limit, &bytes_limit);
    r->ended = ended;
    r->error = error;
    pthread_cond_signal(&r->more);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void
reader_tell_stop(Reader *r)
{
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->room);
    pthread_mutex_unlock(&r->lock);
    uint64_t one = 1;
    ssize_t written = write(r->wake, &one, sizeof one);
    (void)written; /* an eventfd's counter does not overflow from a few writes */
}

static void
reader_finish(Reader *r)
{
    /* Stop the thread and wait for it; the GIL is held on entry and on return. */
    if (r->started) {
        reader_tell_stop(r);
        Py_BEGIN_ALLOW_THREADS
        pthread_join(r->thread, NULL);
        Py_END_ALLOW_THREADS
        r->started = 0;
    }
}

static void
reader_free(Reader *r)
{
    reader_finish(r);
    if (r->has_ring) {
        PyBuffer_Release(&r->ring);
        r->has_ring = 0;
    }
    PyMem_RawFree(r->scratch);
    PyMem_RawFree(r->times);
    PyMem_RawFree(r->sizes);
    r->scratch = NULL;
    r->times = NULL;
    r->sizes = NULL;
    if (r->wake >= 0) {
        close(r->wake);
        r->wake = -1;
    }
}

static void
Reader_dealloc(Reader *r)
{
    reader_free(r);
    if (r->fd != -2) { /* initialised */
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->more);
        pthread_cond_destroy(&r->room);
    }
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static PyObject *
Reader_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *sock, *ring;
    Py_ssize_t step;
    long long total, t0;
    PyObject *end_object;
    static char *names[] = {"sock", "ring", "step", "total", "end", "t0", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOnLOL:Reader", names, &sock, &ring, &step,
                                     &total, &end_object, &t0))
        return NULL;
    int over = 0;
    long long end = PyLong_AsLongLongAndOverflow(end_object, &over);
    if (over > 0)
        end = LLONG_MAX;
    if (PyErr_Occurred())
        return NULL;
    int fd = PyObject_AsFileDescriptor(sock);
    if (fd < 0)
        return NULL;
    if (step <= 0 || step > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "Reader: step must be 1 to 2**32 - 1");
        return NULL;
    }

    Reader *r = (Reader *)type->tp_alloc(type, 0);
    if (r == NULL)
        return NULL;
    r->fd = -2; /* not initialised, for dealloc */
    r->wake = -1;
    r->step = (size_t)step;
    r->total0 = total;
    r->end = end;
    r->t0 = (int64_t)t0;
    if (ring != Py_None) {
        if (PyObject_GetBuffer(ring, &r->ring, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
            Py_DECREF(r);
            return NULL;
        }
        r->has_ring = 1;
        if (r->ring.len < 2 * step) {
            PyErr_SetString(PyExc_ValueError, "Reader: the ring must hold two recvs");
            Py_DECREF(r);
            return NULL;
        }
        r->ring_size = (uint64_t)r->ring.len;
        r->kick_bytes = r->ring_size / 4;
    }
    else {
        r->scratch = PyMem_RawMalloc((size_t)step);
    }
    r->times = PyMem_RawMalloc(RING_ROWS * sizeof *r->times);
    r->sizes = PyMem_RawMalloc(RING_ROWS * sizeof *r->sizes);
    if ((!r->has_ring && r->scratch == NULL) || r->times == NULL || r->sizes == NULL) {
        Py_DECREF(r);
        return PyErr_NoMemory();
    }
    r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->wake < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        Py_DECREF(r);
        return NULL;
    }
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->more, &monotonic);
    pthread_cond_init(&r->room, &monotonic);
    pthread_condattr_destroy(&monotonic);
    r->fd = fd;

    /* The thread starts with every signal blocked: Python's handlers run on the main
     * thread, and a recv interrupted here would gain nothing. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int failed = pthread_create(&r->thread, NULL, reader_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (failed) {
        errno = failed;
        PyErr_SetFromErrno(PyExc_OSError);
        Py_DECREF(r);
        return NULL;
    }
    r->started = 1;
    return (PyObject *)r;
}

static PyObject *
Reader_collect(Reader *r, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "collect takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    int over = 0;
    long long deadline = PyLong_AsLongLongAndOverflow(args[0], &over);
    if (over > 0)
        deadline = LLONG_MAX;
    if (PyErr_Occurred())
        return NULL;
    PyObject *times = args[1], *sizes = args[2];
    if (r->times == NULL) {
        PyErr_SetString(PyExc_ValueError, "collect: the reader is closed");
        return NULL;
    }

    uint64_t first, last, start = 0, stop = 0;
    long long total;
    int ended, error;
    int64_t now;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&r->lock);
    r->bytes_taken = r->release; /* the caller is done with the region it was given */
    pthread_cond_signal(&r->room);
    r->waiting = 1;
    for (;;) {
        if (r->ended != RUNNING || r->rows_pub - r->rows_taken >= KICK_ROWS ||
            (r->has_ring && r->bytes_pub - r->bytes_taken >= r->kick_bytes))
            break;
        now = now_ns();
        if (now >= deadline)
            break;
        /* Rows that came before the server went quiet are handed over after HOLD_MS,
         * not at the deadline: the watchdog reports them (its emit may be far off). */
        int64_t quiet = r->quiet_since;
        if (r->rows_pub > r->rows_taken && quiet && now - quiet >= HOLD_MS * 1000000LL)
            break;
        int64_t wake = now + HOLD_MS * 1000000LL < deadline ? now + HOLD_MS * 1000000LL : deadline;
        struct timespec until = {(time_t)(wake / 1000000000), (long)(wake % 1000000000)};
        pthread_cond_timedwait(&r->more, &r->lock, &until);
    }
    r->waiting = 0;
    first = r->rows_taken;
    last = r->rows_pub;
    total = r->total_pub;
    ended = r->ended;
    error = r->error;
    if (r->has_ring) {
        /* One contiguous region: to the published end, the lap's end or the skip. */
        uint64_t from = r->bytes_taken, size = r->ring_size;
        uint64_t lap_end = (from / size + 1) * size;
        start = from;
        if (r->bytes_pub < lap_end) {
            stop = r->release = r->bytes_pub;
        }
        else {
            stop = r->skip_from >= from && r->skip_from < lap_end ? r->skip_from : lap_end;
            r->release = lap_end;
        }
        if (stop - start > r->kick_bytes) /* a write of at most a quarter ring at a time */
            stop = r->release = start + r->kick_bytes;
        if (r->release != r->bytes_pub)
            ended = RUNNING; /* more bytes to hand over first */
    }
    pthread_mutex_unlock(&r->lock);
    Py_END_ALLOW_THREADS
    now = now_ns();

    /* The rows [first, last) are the collector's until it moves rows_taken on. */
    int failed = 0;
    while (first < last && !failed) {
        uint64_t at = first % RING_ROWS, n = last - first;
        if (n > RING_ROWS - at)
            n = RING_ROWS - at;
        failed = flush(times, sizes, r->times + at, r->sizes + at, (Py_ssize_t)n);
        first += n;
    }
    pthread_mutex_lock(&r->lock);
    r->rows_taken = first;
    pthread_cond_signal(&r->room);
    pthread_mutex_unlock(&r->lock);
    if (failed)
        return NULL;

    PyObject *exc = Py_None;
    if (ended == ENDED_ERROR) {
        exc = PyObject_CallFunction(PyExc_OSError, "is", error, strerror(error));
        if (exc == NULL)
            return NULL;
    }
    else {
        Py_INCREF(exc);
    }
    Py_ssize_t size = r->has_ring ? (Py_ssize_t)r->ring_size : 1;
    return Py_BuildValue("nnLLiN", (Py_ssize_t)(start % (uint64_t)size),
                         (Py_ssize_t)(stop - start + start % (uint64_t)size), total,
                         (long long)now, ended, exc);
}

static PyObject *
Reader_stop(Reader *r, PyObject *unused)
{
    (void)unused;
    if (r->started)
        reader_tell_stop(r);
    Py_RETURN_NONE;
}

static PyObject *
Reader_close(Reader *r, PyObject *unused)
{
    (void)unused;
    reader_free(r);
    Py_RETURN_NONE;
}

static PyMethodDef reader_methods[] = {
    {"collect", (PyCFunction)(void (*)(void))Reader_collect, METH_FASTCALL,
     "collect(deadline, times, sizes) -> (start, stop, total, now, ended, error)"},
    {"stop", (PyCFunction)Reader_stop, METH_NOARGS, "Ask the reader to end; collect() says when it has."},
    {"close", (PyCFunction)Reader_close, METH_NOARGS, "Stop the reader, wait for it, free its rings."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sockview.core._recvloop.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The counted-body recv loop on a thread that never takes the GIL.",
    .tp_new = Reader_new,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = reader_methods,
};

static PyMethodDef methods[] = {
    {"recv_counted", (PyCFunction)(void (*)(void))recv_counted, METH_FASTCALL,
     "The counted-body recv loop, one slice, without the GIL; see sockview.core.recvloop."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "sockview.core._recvloop",
    "The counted-body recv loop in C; see sockview.core.recvloop.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__recvloop(void)
{
    if (PyType_Ready(&ReaderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ReaderType);
    if (PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(&ReaderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
