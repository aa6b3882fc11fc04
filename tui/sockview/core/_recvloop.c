/* The counted-body recv loop of sockview.core.fetch, compiled: see recvloop.py.
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
    return PyModule_Create(&module);
}
