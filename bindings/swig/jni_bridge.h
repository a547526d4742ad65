// The mljni_* entry points of the Java binding (jni_bridge.cpp), wrapped by memberlist.i.
// A `JNIEnv *jenv_` parameter is filled by SWIG with the calling Java thread's JNIEnv.
#pragma once

#include <jni.h>

#include <memberlist/memberlist.h>

ml_err_t mljni_init(JNIEnv *jenv_, jobject bridge_class_obj);
ml_err_t mljni_config_set_delegate(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge, int which);
ml_err_t mljni_config_set_events(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge);
ml_err_t mljni_config_set_conflict(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge);
ml_err_t mljni_config_set_merge(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge);
ml_err_t mljni_config_set_alive(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge);
ml_err_t mljni_config_set_node_selection(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge);
ml_err_t mljni_config_set_tcp_pings(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge);
ml_err_t mljni_config_set_ping(JNIEnv *jenv_, ml_config_t *cfg, jobject bridge, int which);
ml_err_t mljni_config_set_log(JNIEnv *jenv_, ml_config_t *cfg, int min_level, jobject bridge);
jbyteArray mljni_member_addr(JNIEnv *jenv_, const ml_member_t *m);
jbyteArray mljni_member_meta(JNIEnv *jenv_, const ml_member_t *m);
jbyteArray mljni_member_versions(JNIEnv *jenv_, const ml_member_t *m);
ml_err_t mljni_metrics(JNIEnv *jenv_, ml_memberlist_t *ml, jobjectArray out);
