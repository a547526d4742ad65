// fuzz_config: the configuration parser — the property table (core/protocol/config_table.cpp)
// and, when linked with the C library (ML_FUZZ_WITH_CAPI), the C API's ml_config_set/get.
//
// Input: one preset byte (b % 3: LAN, WAN, Local), then NUL-separated key, value, key, value, …
// (a key without a value ends the input). Keys are free text, so unknown keys are fuzzed too.
//
// Properties, for every (key, value):
//   - set_property never crashes. On failure the config is unchanged (every property reads
//     back as before), the error text is non-empty and, for a known key, names the key.
//   - On success get_property(key) works, and formatting is a fixed point: setting the text
//     that get returned succeeds and reads back as the same text.
//   - A value that parse_duration accepts survives format_duration -> parse_duration.
//   - Through the C API (when linked): ml_config_set gives the same success/failure as
//     set_property on a copy of the same config, and ml_config_get the same text afterwards.
// At the end validate() runs (it must not crash; its verdict is free).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "protocol/config.hpp"
#include "protocol/config_table.hpp"

#ifdef ML_FUZZ_WITH_CAPI
#include "memberlist/memberlist.h"
#endif

using namespace memberlist::protocol;

namespace {

std::vector<std::string> snapshot(const Config &c) {
  std::vector<std::string> out;
  for (const auto &p : properties()) {
    auto v = get_property(c, p.key);
    FUZZ_CHECK(v.ok(), "get_property failed for the table's own key " + std::string(p.key));
    out.push_back(*v);
  }
  return out;
}

void check_duration(std::string_view v) {
  auto d = parse_duration(v);
  if (!d) {
    FUZZ_CHECK(!d.error().to_string().empty(), "empty duration error");
    return;
  }
  const std::string f = format_duration(*d);
  auto back = parse_duration(f);
  FUZZ_CHECK(back.ok(), "format_duration gave unparsable '" + f + "' for '" + std::string(v) + "'");
  FUZZ_CHECK(*back == *d, "duration '" + std::string(v) + "' -> '" + f + "' changes its value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  const uint8_t preset = data[0] % 3;
  Config cfg = preset == 0 ? Config::lan() : preset == 1 ? Config::wan() : Config::local();
#ifdef ML_FUZZ_WITH_CAPI
  ml_config_t *ccfg = nullptr;
  FUZZ_CHECK(ml_config_create(&ccfg, static_cast<ml_preset_t>(preset)) == ML_OK, "ml_config_create");
#endif
  std::string_view rest(reinterpret_cast<const char *>(data + 1), size - 1);
  for (int pairs = 0; pairs < 64; ++pairs) {
    const size_t k_end = rest.find('\0');
    if (k_end == std::string_view::npos) break;
    const std::string_view key = rest.substr(0, k_end);
    rest.remove_prefix(k_end + 1);
    const size_t v_end = rest.find('\0');
    const std::string_view value = rest.substr(0, v_end);
    rest.remove_prefix(v_end == std::string_view::npos ? rest.size() : v_end + 1);

    check_duration(value);
    const std::vector<std::string> before = snapshot(cfg);
    const Property *prop = find_property(key);
    auto st = set_property(cfg, key, value);
    if (!st) {
      const std::string e = st.error().to_string();
      FUZZ_CHECK(!e.empty(), "empty error text");
      if (prop != nullptr) FUZZ_CHECK(e.find(prop->key) != std::string::npos, "error does not name the key: " + e);
      FUZZ_CHECK(snapshot(cfg) == before, "a failed set changed the config: key " + std::string(key));
    } else {
      FUZZ_CHECK(prop != nullptr, "set_property accepted an unknown key");
      auto got = get_property(cfg, key);
      FUZZ_CHECK(got.ok(), "get after a successful set failed: " + std::string(key));
      Config again = cfg;
      auto st2 = set_property(again, key, *got);
      FUZZ_CHECK(st2.ok(), "the formatted value does not parse: " + std::string(key) + " = '" + *got + "'");
      auto got2 = get_property(again, key);
      FUZZ_CHECK(got2.ok() && *got2 == *got,
                 "format is not a fixed point: " + std::string(key) + ": '" + *got + "' -> '" + got2.value() + "'");
    }
#ifdef ML_FUZZ_WITH_CAPI
    // C strings: the C API cannot see past a NUL, and the splitting above guarantees there is none.
    const std::string k(key), v(value);
    char err[256] = {0};
    const ml_err_t rc = ml_config_set(ccfg, k.c_str(), v.c_str(), err, sizeof err);
    FUZZ_CHECK((rc == ML_OK) == st.ok(), "ml_config_set and set_property disagree on " + k + " = '" + v + "': " + err);
    if (rc != ML_OK) {
      FUZZ_CHECK(err[0] != '\0', "ml_config_set failed without a message");
      FUZZ_CHECK(rc == (prop != nullptr ? ML_ERR_BAD_VALUE : ML_ERR_UNKNOWN_KEY), "unexpected error code");
    } else {
      char buf[1024];
      size_t len = 0;
      FUZZ_CHECK(ml_config_get(ccfg, k.c_str(), buf, sizeof buf, &len) == ML_OK, "ml_config_get failed");
      auto want = get_property(cfg, key);
      if (len < sizeof buf) FUZZ_CHECK(std::string(buf, len) == *want, "ml_config_get differs from get_property");
    }
#endif
  }
  const auto v = cfg.validate();
  if (!v) FUZZ_CHECK(!v.error().to_string().empty(), "empty validation error");
#ifdef ML_FUZZ_WITH_CAPI
  char err[256];
  (void)ml_config_validate(ccfg, err, sizeof err);
  ml_config_destroy(ccfg);
#endif
  return 0;
}
