// PUT /_matrix/federation/v1/send/{txnId} (federation.md §5): a transaction of PDUs and EDUs from another
// server. Always 200 with per-PDU results once handled, even when PDUs were refused.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "homeserver/federation/transaction_receiver.h"
#include "homeserver/federation_api/federation_api.h"

namespace herald::homeserver {
namespace {

// 50 PDUs and 100 EDUs of at most 64 KiB each, and their envelope.
constexpr std::size_t kMaxTransactionBytes =
    (TransactionReceiver::kMaxPdus + TransactionReceiver::kMaxEdus) * TransactionReceiver::kMaxPduBytes + 65536;

Task<http::Response> put_send(http::Request req, FederationApi& api, std::string origin) {
  if (req.body.size() > kMaxTransactionBytes) throw MatrixError(Errc::too_large, "The transaction is too large", 413);
  std::string txn_id = req.path_param("txnId");
  if (txn_id.empty() || txn_id.size() > 255) throw MatrixError(Errc::invalid_param, "Invalid transaction ID");
  nlohmann::json body = json_body::parse_object(req.body);
  nlohmann::json response = co_await api.transactions.receive(std::move(origin), std::move(txn_id), std::move(body));
  co_return http::Response::json(200, response);
}

}  // namespace

void add_transaction_routes(http::Router& router, FederationApi& api) {
  // A transaction may carry 50 PDUs of up to 64 KiB each and 100 EDUs: more than the server's default limit.
  router.add(http::Method::put, "/_matrix/federation/v1/send/{txnId}", bind_federation(put_send, api),
             kMaxTransactionBytes);
}

}  // namespace herald::homeserver
