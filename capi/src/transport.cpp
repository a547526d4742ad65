// The external transport: ml_config_set_transport's callbacks (adapters.hpp,
// TransportRegistration) carry the node's output; these entry points carry the program's input.
#include "handles.hpp"
#include "net/address.hpp"

using namespace memberlist::capi;

// ------------------------------------------------------------------- external-transport input
namespace {
ml_err_t external_status(ml_memberlist_t *ml, const wire::Status &s) {
  if (s) return ML_OK;
  if (ml->host->is_shut_down()) return ML_ERR_CLOSED;
  return ML_ERR_INTERNAL;
}
ml_err_t check_external(ml_memberlist_t *ml) {
  if (ml == nullptr) return ML_ERR_INVALID_ARGUMENT;
  if (!ml->regs->transport) return ML_ERR_NOT_SUPPORTED;
  if (ml->closed.load() || ml->host->is_shut_down()) return ML_ERR_CLOSED;
  return ML_OK;
}
}  // namespace

ML_EXPORT ml_err_t ml_memberlist_deliver_packet(ml_memberlist_t *ml, const char *from, const uint8_t *data,
                                                size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (from == nullptr || (data == nullptr && len != 0)) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    auto ep = net::parse_endpoint(from, 0);
    if (!ep) return ML_ERR_INVALID_ARGUMENT;
    return external_status(ml, ml->host->deliver_packet(*ep, wire::ByteView(data, len)));
  });
}

ML_EXPORT ml_err_t ml_memberlist_accept_stream(ml_memberlist_t *ml, const char *from, uint64_t *id_out) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (id_out != nullptr) *id_out = 0;
    if (from == nullptr || id_out == nullptr) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    auto ep = net::parse_endpoint(from, 0);
    if (!ep) return ML_ERR_INVALID_ARGUMENT;
    auto r = ml->host->accept_stream(*ep);
    if (!r) return external_status(ml, r.error());
    *id_out = *r;
    return ML_OK;
  });
}

ML_EXPORT ml_err_t ml_memberlist_stream_data(ml_memberlist_t *ml, uint64_t id, const uint8_t *data, size_t len) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (data == nullptr && len != 0) return ML_ERR_INVALID_ARGUMENT;
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    return external_status(ml, ml->host->stream_data(id, wire::ByteView(data, len)));
  });
}

ML_EXPORT ml_err_t ml_memberlist_stream_end(ml_memberlist_t *ml, uint64_t id, const char *error) {
  return guard(nullptr, 0, [&]() -> ml_err_t {
    if (auto rc = check_external(ml); rc != ML_OK) return rc;
    wire::Status st = wire::Ok{};
    if (error != nullptr) st = wire::make_error(wire::Errc::Truncated, error);
    return external_status(ml, ml->host->stream_end(id, std::move(st)));
  });
}

