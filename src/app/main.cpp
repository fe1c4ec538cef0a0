// herald: the command line (CLI11). `herald homeserver --config FILE`, `herald identity --config FILE`,
// `herald dev`, `herald generate-config [--identity]`, `herald register-user`, `herald receive-pdus`,
// `herald --version`.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <unistd.h>

#include "app/config.h"
#include "app/homeserver_app.h"

namespace {

std::string read_password_from_stdin() {
  if (isatty(STDIN_FILENO)) std::cerr << "Password: " << std::flush;
  std::string line;
  std::getline(std::cin, line);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace herald::app;
  // glibc gives every thread that allocates its own arena (up to 8 per core); with a handful of io,
  // storage and worker threads that mostly fragments memory. Two arenas keep the resident set small.
  mallopt(M_ARENA_MAX, 2);
  CLI::App cli{"Herald: a Matrix homeserver and identity server"};
  cli.set_version_flag("--version", std::string("herald ") + HERALD_VERSION);
  cli.require_subcommand(1);

  std::string config_path;
  std::string port_file;
  auto* hs = cli.add_subcommand("homeserver", "Run the homeserver from a configuration file");
  hs->add_option("--config,-c", config_path, "YAML configuration file")->required();
  hs->add_option("--port-file", port_file, "Write the bound ports here, one per listener");

  std::string identity_config_path;
  auto* is = cli.add_subcommand("identity", "Run the identity server from a configuration file");
  is->add_option("--config,-c", identity_config_path, "YAML configuration file")->required();
  is->add_option("--port-file", port_file, "Write the bound ports here, one per listener");

  std::string data_dir = "./herald-data";
  auto* dev = cli.add_subcommand(
      "dev", "Run on the embedded defaults: SQLite under --data, homeserver on http://127.0.0.1:8008, identity server "
             "on http://127.0.0.1:8090 (mail written to <data>/outbox)");
  dev->add_option("--data", data_dir, "Data directory")->capture_default_str();
  dev->add_option("--port-file", port_file, "Write the bound ports here, one per listener");

  bool identity_example = false;
  auto* gen = cli.add_subcommand("generate-config", "Print a commented configuration with every key");
  gen->add_flag("--identity", identity_example, "The identity server's configuration instead of the homeserver's");

  std::string username, password;
  bool admin = false;
  auto* reg = cli.add_subcommand("register-user", "Create a user directly in the database (admin tool)");
  reg->add_option("--config,-c", config_path, "YAML configuration file (default: the dev configuration under --data)");
  reg->add_option("--data", data_dir, "Data directory of `herald dev`")->capture_default_str();
  reg->add_option("--user,-u", username, "Localpart of the new user")->required();
  reg->add_option("--password,-p", password, "Password (read from stdin when omitted)");
  reg->add_flag("--admin,-a", admin, "Make the user a server admin");

  std::string room_id;
  std::vector<std::string> trusted_keys;
  auto* recv = cli.add_subcommand(
      "receive-pdus", "Hand a room PDUs (one JSON object per line on stdin) through the event pipeline, as federation "
                      "will; prints each one's outcome (admin and test tool)");
  recv->add_option("--config,-c", config_path, "YAML configuration file (default: the dev configuration under --data)");
  recv->add_option("--data", data_dir, "Data directory of `herald dev`")->capture_default_str();
  recv->add_option("--room,-r", room_id, "The room the PDUs belong to")->required();
  recv->add_option("--trust-key", trusted_keys, "A server's signing key to verify with: server,ed25519:id,base64 (repeatable)");

  CLI11_PARSE(cli, argc, argv);

  try {
    if (hs->parsed()) {
      const HomeserverConfig config = load_homeserver_config(config_path);
      RunOptions run;
      if (!port_file.empty()) run.port_file = port_file;
      return run_homeserver(config, run);
    }
    if (is->parsed()) {
      const IdentityConfig config = load_identity_config(identity_config_path);
      RunOptions run;
      if (!port_file.empty()) run.port_file = port_file;
      return run_identity_server(config, run);
    }
    if (dev->parsed()) {
      RunOptions run;
      if (!port_file.empty()) run.port_file = port_file;
      return run_dev(dev_homeserver_config(data_dir), dev_identity_config(data_dir), run);
    }
    if (gen->parsed()) {
      std::cout << (identity_example ? herald::embedded::identity_example_yaml() : herald::embedded::homeserver_example_yaml());
      return 0;
    }
    if (reg->parsed()) {
      const HomeserverConfig config = config_path.empty() ? dev_homeserver_config(data_dir) : load_homeserver_config(config_path);
      if (password.empty()) password = read_password_from_stdin();
      if (password.empty()) {
        std::cerr << "herald register-user: a password is required\n";
        return 1;
      }
      return register_user_offline(config, username, password, admin);
    }
    if (recv->parsed()) {
      const HomeserverConfig config = config_path.empty() ? dev_homeserver_config(data_dir) : load_homeserver_config(config_path);
      return receive_pdus_offline(config, room_id, trusted_keys, std::cin, std::cout);
    }
  } catch (const ConfigError& e) {
    std::cerr << "herald: configuration error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "herald: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
