#pragma once
// Send-to-device messages waiting for their device, in portable SQL. Functions run inside a Database job.
#include <cstdint>
#include <string>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct StoredToDevice {
  std::int64_t stream = 0;
  std::string message_json;  // {type, sender, content}
};

namespace to_device_store {

void insert(sql::Connection& c, const std::string& user, const std::string& device, std::int64_t stream,
            const std::string& message_json);
// The device's messages with stream in (since, to], oldest first, at most limit.
std::vector<StoredToDevice> pending(sql::Connection& c, const std::string& user, const std::string& device,
                                    std::int64_t since, std::int64_t to, std::int64_t limit);
// The client acknowledged everything up to `stream`.
void delete_up_to(sql::Connection& c, const std::string& user, const std::string& device, std::int64_t stream);
void delete_device(sql::Connection& c, const std::string& user, const std::string& device);
// False when the (sending device, transaction) was seen before; records it otherwise.
std::int64_t max_stream(sql::Connection& c);
bool first_transaction(sql::Connection& c, const std::string& user, const std::string& device, const std::string& txn_key);

}  // namespace to_device_store
}  // namespace herald::storage
