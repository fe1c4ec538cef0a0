#pragma once
// Runs the servers the command line asked for (homeserver, identity server, or both for `herald dev`).
#include <filesystem>
#include <optional>
#include <iosfwd>
#include <string>
#include <vector>

#include "app/config.h"

namespace herald::app {

struct RunOptions {
  std::optional<std::filesystem::path> port_file;  // receives the bound ports, one per listener
};

// Each runs until SIGINT/SIGTERM; in-flight requests finish first. Return the process exit code.
int run_homeserver(const HomeserverConfig& config, const RunOptions& options);
int run_identity_server(const IdentityConfig& config, const RunOptions& options);
// `herald dev`: both, in one process.
int run_dev(const HomeserverConfig& homeserver, const IdentityConfig& identity, const RunOptions& options);

// `herald register-user`: creates an account straight in the database (the server may be running).
int register_user_offline(const HomeserverConfig& config, const std::string& username, const std::string& password,
                          bool admin);

// `herald receive-pdus`: hands PDUs (one JSON object per line of `in`) for a room to the event pipeline,
// as the federation transport will, trusting the given server keys ("server,ed25519:id,base64"). Writes
// one line per PDU with its outcome. The server may be running: it notices the room changed.
int receive_pdus_offline(const HomeserverConfig& config, const std::string& room_id,
                         const std::vector<std::string>& trusted_keys, std::istream& in, std::ostream& out);

}  // namespace herald::app
