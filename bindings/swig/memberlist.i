/*
 * SWIG interface for the Java binding: wraps the C API (memberlist.h) into
 * dev.memberlist.internal.MemberlistNative. Not public API: the hand-written facade in
 * dev.memberlist is.
 *
 * Shape
 * - Whitelist: everything in the header is ignored (%ignore ""), then the plain functions the
 *   facade needs are un-ignored one by one. Functions that take C function pointers are never
 *   wrapped; hand-written trampolines register them instead, through the mljni_* entry points of
 *   jni_bridge.cpp (declared in jni_bridge.h, wrapped at the end of this file).
 * - Opaque handles (ml_config_t *, ml_memberlist_t *, ...) are Java `long`s; out-parameters
 *   `T **out` are `long[1]`. C enums are Java ints; #define constants are Java constants.
 * - Byte buffers (const uint8_t *, size_t) are byte[]; error text buffers
 *   (char *errstr, size_t errstr_size) are byte[] the callee fills (NUL-terminated UTF-8).
 *
 * Callbacks: no SWIG directors. Each registration passes the C API a JNI global reference to
 * one Java bridge object (dev.memberlist.Bridge) as `user`, and mljni_user_free as
 * `user_free`, which deletes that global reference: the C API calls it exactly once, after the
 * last callback, so the bridge (and every listener it holds) stays reachable for exactly as
 * long as native code can call it. A library thread (the loop, a notification thread)
 * attaches to the JVM once, as a daemon, and is detached by a pthread key destructor when it
 * ends. Every trampoline runs in its own JNI local frame (those threads never return to Java,
 * so local references must not pile up), and a Java exception never propagates into the library: it is cleared and handed to
 * Bridge.uncaught(Throwable), which logs it.
 */
%module(jniclassname = "MemberlistNativeJNI") MemberlistNative

%{
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include <memberlist/memberlist.h>
%}

%include "stdint.i"
%javaconst(1);

/* --------------------------------------------------------------------------- typemaps */

/* Opaque handles as long; `T **` out-parameters as long[1]. */
%define ML_HANDLE(TYPE)
%typemap(jni) TYPE *, const TYPE * "jlong"
%typemap(jtype) TYPE *, const TYPE * "long"
%typemap(jstype) TYPE *, const TYPE * "long"
%typemap(javain) TYPE *, const TYPE * "$javainput"
%typemap(javaout) TYPE *, const TYPE * { return $jnicall; }
%typemap(in) TYPE *, const TYPE * %{ $1 = ($1_ltype)(intptr_t)$input; %}
%typemap(out) TYPE *, const TYPE * %{ $result = (jlong)(intptr_t)$1; %}

%typemap(jni) TYPE ** "jlongArray"
%typemap(jtype) TYPE ** "long[]"
%typemap(jstype) TYPE ** "long[]"
%typemap(javain) TYPE ** "$javainput"
%typemap(in) TYPE ** (TYPE *tmp = NULL) %{
  if ($input == NULL || jenv->GetArrayLength($input) < 1) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "out: a long[1] is required");
    return $null;
  }
  $1 = &tmp;
%}
%typemap(argout) TYPE ** %{
  {
    jlong v = (jlong)(intptr_t)tmp$argnum;
    jenv->SetLongArrayRegion($input, 0, 1, &v);
  }
%}
%enddef

ML_HANDLE(ml_runtime_t)
ML_HANDLE(ml_config_t)
ML_HANDLE(ml_members_t)
ML_HANDLE(ml_member_t)
ML_HANDLE(ml_keyring_t)
ML_HANDLE(ml_memberlist_t)

/* Input bytes: byte[] (null = NULL, 0). */
%typemap(jni) (const uint8_t *BYTES, size_t LEN) "jbyteArray"
%typemap(jtype) (const uint8_t *BYTES, size_t LEN) "byte[]"
%typemap(jstype) (const uint8_t *BYTES, size_t LEN) "byte[]"
%typemap(javain) (const uint8_t *BYTES, size_t LEN) "$javainput"
%typemap(in) (const uint8_t *BYTES, size_t LEN) %{
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    $2 = (size_t)jenv->GetArrayLength($input);
    $1 = ($1_ltype)jenv->GetByteArrayElements($input, 0);
    if ($1 == NULL) return $null; /* OutOfMemoryError pending */
  }
%}
%typemap(freearg) (const uint8_t *BYTES, size_t LEN) %{
  if ($input != NULL && $1 != NULL) jenv->ReleaseByteArrayElements($input, (jbyte *)$1, JNI_ABORT);
%}
%apply (const uint8_t *BYTES, size_t LEN) { (const uint8_t *msg, size_t len), (const uint8_t *key, size_t len),
                                            (const uint8_t *primary, size_t len) };

/* Output buffers: byte[] filled by the callee (null = NULL, 0). */
%typemap(jni) (char *OUTBUF, size_t OUTLEN), (uint8_t *OUTBUF, size_t OUTLEN) "jbyteArray"
%typemap(jtype) (char *OUTBUF, size_t OUTLEN), (uint8_t *OUTBUF, size_t OUTLEN) "byte[]"
%typemap(jstype) (char *OUTBUF, size_t OUTLEN), (uint8_t *OUTBUF, size_t OUTLEN) "byte[]"
%typemap(javain) (char *OUTBUF, size_t OUTLEN), (uint8_t *OUTBUF, size_t OUTLEN) "$javainput"
%typemap(in) (char *OUTBUF, size_t OUTLEN), (uint8_t *OUTBUF, size_t OUTLEN) %{
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    $2 = (size_t)jenv->GetArrayLength($input);
    $1 = ($1_ltype)jenv->GetByteArrayElements($input, 0);
    if ($1 == NULL) return $null;
  }
%}
%typemap(argout) (char *OUTBUF, size_t OUTLEN), (uint8_t *OUTBUF, size_t OUTLEN) %{
  if ($input != NULL && $1 != NULL) {
    jenv->ReleaseByteArrayElements($input, (jbyte *)$1, 0);
    $1 = NULL;
  }
%}
%apply (char *OUTBUF, size_t OUTLEN) { (char *errstr, size_t errstr_size), (char *buf, size_t buf_size) };
%apply (uint8_t *OUTBUF, size_t OUTLEN) { (uint8_t *buf, size_t buf_size) };

/* size_t *len_out: long[1] or null. */
%typemap(jni) size_t *len_out "jlongArray"
%typemap(jtype) size_t *len_out "long[]"
%typemap(jstype) size_t *len_out "long[]"
%typemap(javain) size_t *len_out "$javainput"
%typemap(in) size_t *len_out (size_t tmp = 0) %{ $1 = ($input != NULL) ? &tmp : NULL; %}
%typemap(argout) size_t *len_out %{
  if ($input != NULL && jenv->GetArrayLength($input) >= 1) {
    jlong v = (jlong)tmp$argnum;
    jenv->SetLongArrayRegion($input, 0, 1, &v);
  }
%}

/* int *contacted_out: int[1] or null. */
%typemap(jni) int *contacted_out "jintArray"
%typemap(jtype) int *contacted_out "int[]"
%typemap(jstype) int *contacted_out "int[]"
%typemap(javain) int *contacted_out "$javainput"
%typemap(in) int *contacted_out (int tmp = 0) %{ $1 = ($input != NULL) ? &tmp : NULL; %}
%typemap(argout) int *contacted_out %{
  if ($input != NULL && jenv->GetArrayLength($input) >= 1) {
    jint v = (jint)tmp$argnum;
    jenv->SetIntArrayRegion($input, 0, 1, &v);
  }
%}

/* int64_t *rtt_ns_out: long[1] or null. */
%typemap(jni) int64_t *rtt_ns_out "jlongArray"
%typemap(jtype) int64_t *rtt_ns_out "long[]"
%typemap(jstype) int64_t *rtt_ns_out "long[]"
%typemap(javain) int64_t *rtt_ns_out "$javainput"
%typemap(in) int64_t *rtt_ns_out (int64_t tmp = 0) %{ $1 = ($input != NULL) ? &tmp : NULL; %}
%typemap(argout) int64_t *rtt_ns_out %{
  if ($input != NULL && jenv->GetArrayLength($input) >= 1) {
    jlong v = (jlong)tmp$argnum;
    jenv->SetLongArrayRegion($input, 0, 1, &v);
  }
%}

/* const char *const *addrs, size_t n: String[]. */
%typemap(jni) (const char *const *addrs, size_t n) "jobjectArray"
%typemap(jtype) (const char *const *addrs, size_t n) "String[]"
%typemap(jstype) (const char *const *addrs, size_t n) "String[]"
%typemap(javain) (const char *const *addrs, size_t n) "$javainput"
%typemap(in) (const char *const *addrs, size_t n) (std::vector<std::string> strs, std::vector<const char *> ptrs) %{
  if ($input != NULL) {
    jsize count = jenv->GetArrayLength($input);
    strs.reserve((size_t)count);
    for (jsize i = 0; i < count; ++i) {
      jstring s = (jstring)jenv->GetObjectArrayElement($input, i);
      if (s == NULL) {
        SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "null address");
        return $null;
      }
      const char *c = jenv->GetStringUTFChars(s, 0);
      if (c == NULL) return $null;
      strs.emplace_back(c);
      jenv->ReleaseStringUTFChars(s, c);
      jenv->DeleteLocalRef(s);
    }
    for (const std::string &s : strs) ptrs.push_back(s.c_str());
  }
  $1 = ($1_ltype)(ptrs.empty() ? NULL : ptrs.data());
  $2 = ptrs.size();
%}

/* C enums are plain ints on the Java side. */
%apply int { ml_preset_t, ml_state_t, ml_event_t, ml_log_level_t };

/* ------------------------------------------------------------------- the whitelist */

%ignore "";
%rename("%s", regextarget = 1) "^ML_";  /* version and error constants (enum values: see dev.memberlist) */
%rename("%s") ml_version;
%rename("%s") ml_version_string;
%rename("%s") ml_err_string;
%rename("%s") ml_runtime_create;
%rename("%s") ml_runtime_destroy;
%rename("%s") ml_runtime_set_timer_coalescing;
%rename("%s") ml_config_create;
%rename("%s") ml_config_destroy;
%rename("%s") ml_config_set;
%rename("%s") ml_config_get;
%rename("%s") ml_config_key_at;
%rename("%s") ml_config_validate;
%rename("%s") ml_config_set_keyring;
%rename("%s") ml_members_count;
%rename("%s") ml_members_get;
%rename("%s") ml_members_destroy;
%rename("%s") ml_member_name;
%rename("%s") ml_member_address;
%rename("%s") ml_member_port;
%rename("%s") ml_member_state;
%rename("%s") ml_member_incarnation;
%rename("%s") ml_keyring_create;
%rename("%s") ml_keyring_destroy;
%rename("%s") ml_keyring_add;
%rename("%s") ml_keyring_use;
%rename("%s") ml_keyring_remove;
%rename("%s") ml_keyring_count;
%rename("%s") ml_keyring_get;
%rename("%s") ml_memberlist_create;
%rename("%s") ml_memberlist_join;
%rename("%s") ml_memberlist_leave;
%rename("%s") ml_memberlist_shutdown;
%rename("%s") ml_memberlist_destroy;
%rename("%s") ml_memberlist_members;
%rename("%s") ml_memberlist_local;
%rename("%s") ml_memberlist_num_members;
%rename("%s") ml_memberlist_health_score;
%rename("%s") ml_memberlist_update_node;
%rename("%s") ml_memberlist_send_best_effort;
%rename("%s") ml_memberlist_send_reliable;
%rename("%s") ml_memberlist_send_to_address;
%rename("%s") ml_memberlist_send_reliable_to_address;
%rename("%s") ml_memberlist_queue_broadcast;
%rename("%s") ml_memberlist_ping;
%rename("%s") ml_memberlist_keyring;

%include <memberlist/memberlist.h>

%rename("%s") "";  /* what follows is ours: wrap all of it */

/* ------------------------------------------------------------- the hand-written half */

%{
#include "jni_bridge.h"
%}

/* The helpers below take JNIEnv from the calling thread: the Java caller's. */
%typemap(in, numinputs = 0) JNIEnv *jenv_ %{ $1 = jenv; %}

/* The entry points, implemented in jni_bridge.cpp. */
%include "jni_bridge.h"
