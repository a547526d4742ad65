// The hand-written JNI half of the Java binding: the trampolines the C API calls (they call
// dev.memberlist.Bridge), JNI_OnLoad, thread attachment, and the mljni_* entry points that the
// SWIG interface (memberlist.i) wraps for dev.memberlist.internal.MemberlistNative.
// memberlist.i keeps only the typemaps and the whitelist; see its header comment for the design.
#include "jni_bridge.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

namespace {

JavaVM *g_vm = NULL;
pthread_key_t g_detach_key;
pthread_once_t g_detach_once = PTHREAD_ONCE_INIT;

/* The bridge class and its methods, resolved once by mljni_init (from a Java thread, so the
 * application class loader is the one that finds them). */
struct BridgeIds {
  jclass cls = NULL;  /* global */
  jmethodID node_meta, notify_msg, get_broadcasts, local_state, merge_remote_state;
  jmethodID event, conflict, merge, alive, tcp_pings, ack_payload, ping_complete, log, select_nodes;
  jmethodID uncaught; /* static */
  bool ready = false;
} g_ids;

void detach_thread(void *vm) {
  if (vm != NULL) static_cast<JavaVM *>(vm)->DetachCurrentThread();
}
void make_detach_key() { (void)pthread_key_create(&g_detach_key, detach_thread); }

/* The JNIEnv of the calling thread; a native thread (the loop) is attached once, as a daemon,
 * and detached when it ends. NULL if the JVM cannot be reached. */
JNIEnv *thread_env() {
  if (g_vm == NULL) return NULL;
  JNIEnv *env = NULL;
  jint rc = g_vm->GetEnv(reinterpret_cast<void **>(&env), JNI_VERSION_1_8);
  if (rc == JNI_OK) return env;
  if (rc != JNI_EDETACHED) return NULL;
  JavaVMAttachArgs args;
  args.version = JNI_VERSION_1_8;
  // The library's threads: its loop ("ml-loop") or a notification thread ("ml-notify").
  char native_name[16] = {0};
  (void)pthread_getname_np(pthread_self(), native_name, sizeof native_name);
  args.name = const_cast<char *>(strcmp(native_name, "ml-notify") == 0 ? "memberlist-notify" : "memberlist-loop");
  args.group = NULL;
  if (g_vm->AttachCurrentThreadAsDaemon(reinterpret_cast<void **>(&env), &args) != JNI_OK) return NULL;
  (void)pthread_once(&g_detach_once, make_detach_key);
  (void)pthread_setspecific(g_detach_key, g_vm);
  return env;
}

/* A pending Java exception is cleared and handed to Bridge.uncaught; never left pending. */
bool check_exception(JNIEnv *env) {
  if (!env->ExceptionCheck()) return false;
  jthrowable t = env->ExceptionOccurred();
  env->ExceptionClear();
  if (g_ids.ready && t != NULL) {
    env->CallStaticVoidMethod(g_ids.cls, g_ids.uncaught, t);
    if (env->ExceptionCheck()) env->ExceptionClear();
  }
  if (t != NULL) env->DeleteLocalRef(t);
  return true;
}

/* Every trampoline: the thread's env and a local frame popped on return. */
class Frame {
 public:
  Frame() : env_(thread_env()) {
    if (env_ != NULL && (!g_ids.ready || env_->PushLocalFrame(16) != 0)) {
      if (env_->ExceptionCheck()) env_->ExceptionClear();
      env_ = NULL;
    }
  }
  ~Frame() {
    if (env_ != NULL) {
      check_exception(env_);
      env_->PopLocalFrame(NULL);
    }
  }
  Frame(const Frame &) = delete;
  Frame &operator=(const Frame &) = delete;
  JNIEnv *env() const { return env_; }

 private:
  JNIEnv *env_;
};

jbyteArray to_java(JNIEnv *env, const uint8_t *p, size_t len) {
  jbyteArray a = env->NewByteArray(static_cast<jsize>(len));
  if (a != NULL && len != 0) env->SetByteArrayRegion(a, 0, static_cast<jsize>(len), reinterpret_cast<const jbyte *>(p));
  return a;
}

jlong ptr(const void *p) { return static_cast<jlong>(reinterpret_cast<intptr_t>(p)); }

void mljni_user_free(void *user) {
  JNIEnv *env = thread_env();
  if (env != NULL && user != NULL) env->DeleteGlobalRef(static_cast<jobject>(user));
}

/* ---- ml_delegate_t */
size_t tr_node_meta(void *user, uint8_t *buf, size_t limit) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return 0;
  jbyteArray a = static_cast<jbyteArray>(
      env->CallObjectMethod(static_cast<jobject>(user), g_ids.node_meta, static_cast<jint>(limit)));
  if (check_exception(env) || a == NULL) return 0;
  const size_t len = static_cast<size_t>(env->GetArrayLength(a));
  env->GetByteArrayRegion(a, 0, static_cast<jsize>(len < limit ? len : limit), reinterpret_cast<jbyte *>(buf));
  return len;  /* > limit: the library reports the size error */
}
void tr_notify_msg(void *user, const uint8_t *msg, size_t len) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  jbyteArray a = to_java(env, msg, len);
  if (a == NULL) return;
  env->CallVoidMethod(static_cast<jobject>(user), g_ids.notify_msg, a);
}
void tr_get_broadcasts(void *user, size_t overhead, size_t limit, void (*emit)(void *, const uint8_t *, size_t),
                       void *ctx) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  jobjectArray arr = static_cast<jobjectArray>(env->CallObjectMethod(
      static_cast<jobject>(user), g_ids.get_broadcasts, static_cast<jint>(overhead), static_cast<jint>(limit)));
  if (check_exception(env) || arr == NULL) return;
  const jsize n = env->GetArrayLength(arr);
  for (jsize i = 0; i < n; ++i) {
    jbyteArray b = static_cast<jbyteArray>(env->GetObjectArrayElement(arr, i));
    if (b == NULL) continue;
    jbyte *p = env->GetByteArrayElements(b, NULL);
    if (p == NULL) break;
    emit(ctx, reinterpret_cast<const uint8_t *>(p), static_cast<size_t>(env->GetArrayLength(b)));
    env->ReleaseByteArrayElements(b, p, JNI_ABORT);
    env->DeleteLocalRef(b);
  }
}
void tr_local_state(void *user, int join, void (*emit)(void *, const uint8_t *, size_t), void *ctx) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  jbyteArray a = static_cast<jbyteArray>(
      env->CallObjectMethod(static_cast<jobject>(user), g_ids.local_state, static_cast<jboolean>(join != 0)));
  if (check_exception(env) || a == NULL) return;
  jbyte *p = env->GetByteArrayElements(a, NULL);
  if (p == NULL) return;
  emit(ctx, reinterpret_cast<const uint8_t *>(p), static_cast<size_t>(env->GetArrayLength(a)));
  env->ReleaseByteArrayElements(a, p, JNI_ABORT);
}
void tr_merge_remote_state(void *user, const uint8_t *buf, size_t len, int join) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  jbyteArray a = to_java(env, buf, len);
  if (a == NULL) return;
  env->CallVoidMethod(static_cast<jobject>(user), g_ids.merge_remote_state, a, static_cast<jboolean>(join != 0));
}

/* ---- events, conflict, merge, alive */
void tr_event(void *user, ml_event_t event, const ml_member_t *member) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  env->CallVoidMethod(static_cast<jobject>(user), g_ids.event, static_cast<jint>(event), ptr(member));
}
void tr_conflict(void *user, const ml_member_t *existing, const ml_member_t *other) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  env->CallVoidMethod(static_cast<jobject>(user), g_ids.conflict, ptr(existing), ptr(other));
}
int tr_merge(void *user, const ml_members_t *peers, char *errbuf, size_t errbuf_size) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return 0;
  jstring s = static_cast<jstring>(env->CallObjectMethod(static_cast<jobject>(user), g_ids.merge, ptr(peers)));
  if (check_exception(env)) {
    if (errbuf != NULL && errbuf_size != 0) snprintf(errbuf, errbuf_size, "%s", "merge listener threw");
    return 1;  /* a listener that fails refuses: the safe answer */
  }
  if (s == NULL) return 0;
  const char *c = env->GetStringUTFChars(s, NULL);
  if (errbuf != NULL && errbuf_size != 0) snprintf(errbuf, errbuf_size, "%s", c != NULL ? c : "merge refused");
  if (c != NULL) env->ReleaseStringUTFChars(s, c);
  return 1;
}
int tr_alive(void *user, const ml_member_t *peer) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return 0;
  jboolean ignore = env->CallBooleanMethod(static_cast<jobject>(user), g_ids.alive, ptr(peer));
  if (check_exception(env)) return 0;
  return ignore ? 1 : 0;
}

/* ---- node selection: the Java answer comes back as a byte[] of flags; a listener that throws
 * (Bridge catches it) or a JNI failure here selects every candidate and prefers none. */
int64_t tr_node_selection(void *user, const ml_members_t *candidates, uint8_t *selected) {
  const size_t n = ml_members_count(candidates);
  auto select_all = [&] {
    for (size_t i = 0; i < n; ++i) selected[i] = 1;
    return int64_t{-1};
  };
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return select_all();
  jbyteArray flags = env->NewByteArray(static_cast<jsize>(n));
  if (flags == NULL) {
    (void)check_exception(env);
    return select_all();
  }
  jlong preferred = env->CallLongMethod(static_cast<jobject>(user), g_ids.select_nodes, ptr(candidates), flags);
  if (check_exception(env)) return select_all();
  env->GetByteArrayRegion(flags, 0, static_cast<jsize>(n), reinterpret_cast<jbyte *>(selected));
  if (check_exception(env)) return select_all();
  return static_cast<int64_t>(preferred);
}

/* ---- DisableTcpPingsForNode: a listener that throws allows the TCP ping */
int tr_tcp_pings(void *user, const char *node) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return 0;
  jstring name = env->NewStringUTF(node);
  if (name == NULL) {
    (void)check_exception(env);
    return 0;
  }
  jboolean disable = env->CallBooleanMethod(static_cast<jobject>(user), g_ids.tcp_pings, name);
  if (check_exception(env)) return 0;
  return disable ? 1 : 0;
}

/* ---- ml_ping_delegate_t */
size_t tr_ack_payload(void *user, uint8_t *buf, size_t limit) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return 0;
  jbyteArray a = static_cast<jbyteArray>(
      env->CallObjectMethod(static_cast<jobject>(user), g_ids.ack_payload, static_cast<jint>(limit)));
  if (check_exception(env) || a == NULL) return 0;
  size_t len = static_cast<size_t>(env->GetArrayLength(a));
  if (len > limit) len = limit;
  env->GetByteArrayRegion(a, 0, static_cast<jsize>(len), reinterpret_cast<jbyte *>(buf));
  return len;
}
void tr_ping_complete(void *user, const ml_member_t *other, int64_t rtt_ns, const uint8_t *payload, size_t len) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  jbyteArray a = to_java(env, payload, len);
  if (a == NULL) return;
  env->CallVoidMethod(static_cast<jobject>(user), g_ids.ping_complete, ptr(other), static_cast<jlong>(rtt_ns), a);
}

/* ---- log */
void tr_log(void *user, ml_log_level_t level, const char *msg) {
  Frame f;
  JNIEnv *env = f.env();
  if (env == NULL) return;
  jstring s = env->NewStringUTF(msg != NULL ? msg : "");
  if (s == NULL) return;
  env->CallVoidMethod(static_cast<jobject>(user), g_ids.log, static_cast<jint>(level), s);
}

/* A new global reference to the bridge for one registration (released by mljni_user_free). */
void *hold(JNIEnv *env, jobject bridge) { return env->NewGlobalRef(bridge); }

void metrics_collect(void *ctx, const char *name, double value) {
  std::string &out = *static_cast<std::string *>(ctx);
  char num[64];
  snprintf(num, sizeof num, "%.17g", value);
  out += name;
  out += '\t';
  out += num;
  out += '\n';
}

}  // namespace

extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *) {
  g_vm = vm;
  return JNI_VERSION_1_8;
}

// ---- the entry points memberlist.i wraps (declared in jni_bridge.h)

/* Resolves the bridge's methods; called once from the facade's static initialiser. */
ml_err_t mljni_init(JNIEnv *jenv_, jobject bridge_class_obj) {
  if (bridge_class_obj == NULL) return ML_ERR_INVALID_ARGUMENT;
  jclass bridge_class = static_cast<jclass>(bridge_class_obj);
  JNIEnv *env = jenv_;
  if (g_vm == NULL) env->GetJavaVM(&g_vm);
  BridgeIds ids;
  ids.cls = static_cast<jclass>(env->NewGlobalRef(bridge_class));
  ids.node_meta = env->GetMethodID(bridge_class, "nodeMeta", "(I)[B");
  ids.notify_msg = env->GetMethodID(bridge_class, "notifyMsg", "([B)V");
  ids.get_broadcasts = env->GetMethodID(bridge_class, "getBroadcasts", "(II)[[B");
  ids.local_state = env->GetMethodID(bridge_class, "localState", "(Z)[B");
  ids.merge_remote_state = env->GetMethodID(bridge_class, "mergeRemoteState", "([BZ)V");
  ids.event = env->GetMethodID(bridge_class, "event", "(IJ)V");
  ids.conflict = env->GetMethodID(bridge_class, "conflict", "(JJ)V");
  ids.merge = env->GetMethodID(bridge_class, "merge", "(J)Ljava/lang/String;");
  ids.alive = env->GetMethodID(bridge_class, "alive", "(J)Z");
  ids.tcp_pings = env->GetMethodID(bridge_class, "disableTcpPings", "(Ljava/lang/String;)Z");
  ids.ack_payload = env->GetMethodID(bridge_class, "ackPayload", "(I)[B");
  ids.ping_complete = env->GetMethodID(bridge_class, "pingComplete", "(JJ[B)V");
  ids.log = env->GetMethodID(bridge_class, "log", "(ILjava/lang/String;)V");
  ids.select_nodes = env->GetMethodID(bridge_class, "selectNodes", "(J[B)J");
  ids.uncaught = env->GetStaticMethodID(bridge_class, "uncaught", "(Ljava/lang/Throwable;)V");
  if (env->ExceptionCheck()) return ML_ERR_INTERNAL; /* NoSuchMethodError stays pending for Java */
  ids.ready = true;
  g_ids = ids;
  return ML_OK;
}

/* Holds the bridge for one registration and hands it to `set` as the user pointer; a refused
 * registration lets go of it again (no user_free will come). */
template <class Set>
ml_err_t register_bridge(JNIEnv *env, jobject bridge, Set &&set) {
  if (bridge == NULL || !g_ids.ready) return ML_ERR_INVALID_ARGUMENT;
  void *u = hold(env, bridge);
  ml_err_t rc = set(u);
  if (rc != ML_OK) env->DeleteGlobalRef(static_cast<jobject>(u));
  return rc;
}

/* Registrations: `which` selects the delegate functions to install (bit 0 node_meta,
 * 1 notify_msg, 2 get_broadcasts, 3 local_state, 4 merge_remote_state). */
ml_err_t mljni_config_set_delegate(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge, int which) {
  ml_delegate_t d;
  d.node_meta = (which & 1) ? tr_node_meta : NULL;
  d.notify_msg = (which & 2) ? tr_notify_msg : NULL;
  d.get_broadcasts = (which & 4) ? tr_get_broadcasts : NULL;
  d.local_state = (which & 8) ? tr_local_state : NULL;
  d.merge_remote_state = (which & 16) ? tr_merge_remote_state : NULL;
  return register_bridge(jenv_, bridge, [&](void *u) { return ml_config_set_delegate(cfg, &d, u, mljni_user_free); });
}
ml_err_t mljni_config_set_events(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge) {
  return register_bridge(jenv_, bridge, [&](void *u) {
    return ml_config_set_events(cfg, tr_event, u, mljni_user_free);
  });
}
ml_err_t mljni_config_set_conflict(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge) {
  return register_bridge(jenv_, bridge, [&](void *u) {
    return ml_config_set_conflict(cfg, tr_conflict, u, mljni_user_free);
  });
}
ml_err_t mljni_config_set_merge(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge) {
  return register_bridge(jenv_, bridge, [&](void *u) {
    return ml_config_set_merge(cfg, tr_merge, u, mljni_user_free);
  });
}
ml_err_t mljni_config_set_alive(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge) {
  return register_bridge(jenv_, bridge, [&](void *u) {
    return ml_config_set_alive(cfg, tr_alive, u, mljni_user_free);
  });
}
ml_err_t mljni_config_set_node_selection(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge) {
  return register_bridge(jenv_, bridge, [&](void *u) {
    return ml_config_set_node_selection(cfg, tr_node_selection, u, mljni_user_free);
  });
}
ml_err_t mljni_config_set_tcp_pings(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge) {
  return register_bridge(jenv_, bridge, [&](void *u) {
    return ml_config_set_disable_tcp_pings_for_node(cfg, tr_tcp_pings, u, mljni_user_free);
  });
}
/* which: bit 0 ack_payload, bit 1 notify_ping_complete. */
ml_err_t mljni_config_set_ping(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge, int which) {
  ml_ping_delegate_t p;
  p.ack_payload = (which & 1) ? tr_ack_payload : NULL;
  p.notify_ping_complete = (which & 2) ? tr_ping_complete : NULL;
  return register_bridge(jenv_, bridge, [&](void *u) { return ml_config_set_ping(cfg, &p, u, mljni_user_free); });
}
ml_err_t mljni_config_set_log(JNIEnv *jenv_, ml_config_t *cfg, int min_level, jobject bridge) {
  ml_log_level_t level;
  memcpy(&level, &min_level, sizeof level);
  return register_bridge(jenv_, bridge, [&](void *u) {
    return ml_config_set_log(cfg, level, tr_log, u, mljni_user_free);
  });
}

/* Member accessors that hand out bytes. */
jbyteArray mljni_member_addr(JNIEnv *jenv_, const ml_member_t *m) {
  size_t len = 0;
  const uint8_t *p = ml_member_addr(m, &len);
  return to_java(jenv_, p, p == NULL ? 0 : len);
}
jbyteArray mljni_member_meta(JNIEnv *jenv_, const ml_member_t *m) {
  size_t len = 0;
  const uint8_t *p = ml_member_meta(m, &len);
  return to_java(jenv_, p, p == NULL ? 0 : len);
}
jbyteArray mljni_member_versions(JNIEnv *jenv_, const ml_member_t *m) {
  uint8_t v[6] = {0, 0, 0, 0, 0, 0};
  ml_member_versions(m, v);
  return to_java(jenv_, v, sizeof v);
}

/* Metrics as "name\tvalue\n" lines in out[0]. */
ml_err_t mljni_metrics(JNIEnv *jenv_, ml_memberlist_t *ml, jobjectArray out) {
  if (out == NULL || jenv_->GetArrayLength(out) < 1) return ML_ERR_INVALID_ARGUMENT;
  std::string text;
  ml_err_t rc = ml_memberlist_metrics(ml, metrics_collect, &text);
  if (rc != ML_OK) return rc;
  jstring s = jenv_->NewStringUTF(text.c_str());
  if (s == NULL) return ML_ERR_NO_MEMORY;
  jenv_->SetObjectArrayElement(out, 0, s);
  return ML_OK;
}
