// The external transport: ml_config_set_transport's callbacks (adapters.hpp,
// TransportRegistration) carry the node's output; these entry points carry the program's input.
#include "handles.hpp"
#include "net/address.hpp"

using namespace memberlist::capi;

// ------------------------------------------------------------------- external-transport input
namespace {
// The handle checks; the host itself answers NotExternal (-> ML_ERR_NOT_SUPPORTED) when the
// memberlist has its own sockets.
ml_err_t check_handle(ml_memberlist_t *ml) {
  if (ml == nullptr) return ML_ERR_INVALID_ARGUMENT;
  if (ml->closed.load()) return ML_ERR_CLOSED;
  return ML_OK;
}
}  // namespace

ML_EXPORT ml_err_t ml_memberlist_deliver_packet(ml_memberlist_t *ml, const char *from, const uint8_t *data,
                                                size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (from == nullptr || (data == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_handle(ml); rc != ML_OK) return rc;
    auto ep = net::parse_endpoint(from, 0);
    if (!ep) return ML_ERR_INVALID_ARGUMENT;
    return to_ml(ml->host->deliver_packet(*ep, wire::ByteView(data, len)));
  });
}

ML_EXPORT ml_err_t ml_memberlist_accept_stream(ml_memberlist_t *ml, const char *from, uint64_t *id_out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (id_out != nullptr) *id_out = 0;
    if (from == nullptr || id_out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_handle(ml); rc != ML_OK) return rc;
    auto ep = net::parse_endpoint(from, 0);
    if (!ep) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->accept_stream(*ep);
    if (!r) return to_ml(r.error());
    *id_out = *r;
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_stream_data(ml_memberlist_t *ml, uint64_t id, const uint8_t *data, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (data == nullptr && len != 0) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_handle(ml); rc != ML_OK) return rc;
    return to_ml(ml->host->stream_data(id, wire::ByteView(data, len)));
  });
}

ML_EXPORT ml_err_t ml_memberlist_stream_end(ml_memberlist_t *ml, uint64_t id, const char *error) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (auto rc = check_handle(ml); rc != ML_OK) return rc;
    wire::Status st = wire::Ok{};
    if (error != nullptr) st = wire::make_error(wire::Errc::Truncated, error);
    return to_ml(ml->host->stream_end(id, std::move(st)));
  });
}

