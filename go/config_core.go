package memberlist

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import "unsafe"

// coreConfigKeys lists every configuration key of libmemberlist (ml_config_key_at), so a test
// can check that Config covers them.
func coreConfigKeys() []string {
	var keys []string
	for i := 0; ; i++ {
		k := C.ml_config_key_at(C.size_t(i))
		if k == nil {
			return keys
		}
		keys = append(keys, C.GoString(k))
	}
}

// corePreset returns every key's value in one of libmemberlist's presets (0 LAN, 1 WAN,
// 2 local), as ml_config_get writes it.
func corePreset(preset int) (map[string]string, error) {
	var cfg *C.ml_config_t
	if rc := C.ml_config_create(&cfg, C.ml_preset_t(preset)); rc != C.ML_OK {
		return nil, &cErr{op: "memberlist: config preset", code: int(rc), text: C.GoString(C.ml_err_string(rc))}
	}
	defer C.ml_config_destroy(cfg)
	out := map[string]string{}
	buf := make([]C.char, 4096)
	for _, k := range coreConfigKeys() {
		ck := C.CString(k)
		rc := C.ml_config_get(cfg, ck, &buf[0], C.size_t(len(buf)), nil)
		C.free(unsafe.Pointer(ck))
		if rc != C.ML_OK {
			return nil, &cErr{op: "memberlist: config key " + k, code: int(rc), text: C.GoString(C.ml_err_string(rc))}
		}
		out[k] = C.GoString(&buf[0])
	}
	return out, nil
}
