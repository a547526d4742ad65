// The configuration as string keys and values (ARCHITECTURE.md "The C ABI rules"): one property
// table drives parsing, formatting, defaults and the generated reference (docs/config.md).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "protocol/config.hpp"

namespace memberlist::protocol {

enum class PropertyType { String, Bool, Int, Dur, Bin, List };

struct Property {
  std::string_view key;         // snake_case, as the C API takes it
  std::string_view go_name;     // memberlist's Config field
  PropertyType type;
  std::string_view doc;
  wire::Status (*set)(Config &, std::string_view value);
  std::string (*get)(const Config &);
};

std::span<const Property> properties();
const Property *find_property(std::string_view key);

// Sets one key from its string form. An unknown key or a bad value is an error (naming the key
// and what was expected) and leaves `cfg` unchanged.
wire::Status set_property(Config &cfg, std::string_view key, std::string_view value);
wire::Result<std::string> get_property(const Config &cfg, std::string_view key);

// Go duration syntax: "300ms", "1.5s", "1m30s", "2h", "0"; units ns, us (µs), ms, s, m, h.
wire::Result<Duration> parse_duration(std::string_view s);
std::string format_duration(Duration d);

// The reference page: every key with its type, memberlist name, LAN/WAN/Local defaults and doc.
std::string config_reference_markdown();

}  // namespace memberlist::protocol
