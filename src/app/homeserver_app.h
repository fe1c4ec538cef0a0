#pragma once
// Wires the homeserver together from its configuration (constructor injection, no globals) and runs it.
#include <filesystem>
#include <optional>
#include <string>

#include "app/config.h"

namespace herald::app {

struct RunOptions {
  std::optional<std::filesystem::path> port_file;  // receives the bound ports, one per listener
};

// Runs until SIGINT/SIGTERM; in-flight requests finish first. Returns the process exit code.
int run_homeserver(const HomeserverConfig& config, const RunOptions& options);

// `herald register-user`: creates an account straight in the database (the server may be running).
int register_user_offline(const HomeserverConfig& config, const std::string& username, const std::string& password,
                          bool admin);

}  // namespace herald::app
