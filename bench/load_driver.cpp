// Load driver for the rooms benchmarks (not a test): cheap synchronous HTTP/1.1 clients, one keep-alive
// connection per thread, so the driver takes little of the two cores it shares with the server.
//   load_driver PORT pairs  USERS ROOMS THREADS   invite+join pairs/s (USERS invitees spread over ROOMS)
//   load_driver PORT create COUNT THREADS         createRoom/s
//   load_driver PORT fill   ROOM USERS THREADS    USERS new users join the public ROOM (joins/s)
//   load_driver PORT wake   SAMPLES               event sent -> waiting /sync returns, p50/p99
//   load_driver PORT herd   USERS ROOMS EVENTS    USERS catch-up /syncs at once, each EVENTS behind, while another
//                                                 user's /messages and GET state/m.room.name are timed
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Client {
 public:
  // `source`: the local address to connect from (the server caps connections per peer address).
  explicit Client(unsigned short port, const std::string& source = "") : socket_(io_) {
    if (!source.empty()) {
      socket_.open(tcp::v4());
      socket_.bind(tcp::endpoint(asio::ip::make_address(source), 0));
    }
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  std::pair<int, nlohmann::json> call(http::verb verb, const std::string& target, const nlohmann::json* body,
                                      const std::string& token = "") {
    auto [status, text] = call_text(verb, target, body, token);
    return {status, nlohmann::json::parse(text, nullptr, false)};
  }
  // The answer's body unparsed (the herd reads thousands of answers on the server's two cores).
  std::pair<int, std::string> call_text(http::verb verb, const std::string& target, const nlohmann::json* body,
                                        const std::string& token = "") {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (body) {
      req.set(http::field::content_type, "application/json");
      req.body() = body->dump();
    }
    req.prepare_payload();
    http::write(socket_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket_, buffer_, parser);
    return {parser.get().result_int(), std::move(parser.get().body())};
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

const std::string kApi = "/_matrix/client/v3";

std::string escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

struct User {
  std::string id, token;
};

User register_user(Client& c, const std::string& name) {
  // No password: registration without argon2id, so setting up thousands of users is quick.
  const nlohmann::json body = {{"username", name}, {"auth", {{"type", "m.login.dummy"}}}};
  auto [status, res] = c.call(http::verb::post, kApi + "/register", &body);
  if (status != 200) throw std::runtime_error("register " + name + ": " + res.dump());
  return {res["user_id"], res["access_token"]};
}

std::string create_room(Client& c, const User& u, const nlohmann::json& body) {
  auto [status, res] = c.call(http::verb::post, kApi + "/createRoom", &body, u.token);
  if (status != 200) throw std::runtime_error("createRoom: " + res.dump());
  return res["room_id"];
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs fn(t) on `threads` threads, each with its own connection, and waits for all of them.
template <class F>
void run_threads(int threads, F fn) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&fn, t] { fn(t); });
  for (auto& th : pool) th.join();
}

std::vector<User> register_many(unsigned short port, const std::string& prefix, int n, int threads) {
  std::vector<User> users(static_cast<std::size_t>(n));
  run_threads(threads, [&](int t) {
    Client c(port);
    for (int i = t; i < n; i += threads) users[static_cast<std::size_t>(i)] = register_user(c, prefix + std::to_string(i));
  });
  return users;
}

int pairs(unsigned short port, int n_users, int n_rooms, int threads) {
  Client setup(port);
  const User alice = register_user(setup, "alice" + std::to_string(std::time(nullptr)));
  const auto users = register_many(port, "u" + std::to_string(std::time(nullptr)) + "_", n_users, threads);
  std::vector<std::string> rooms;
  const nlohmann::json private_room = {{"preset", "private_chat"}};
  for (int r = 0; r < n_rooms; ++r) rooms.push_back(create_room(setup, alice, private_room));
  std::atomic<int> failures{0};
  const auto start = Clock::now();
  run_threads(threads, [&](int t) {
    Client c(port);
    const nlohmann::json empty = nlohmann::json::object();
    for (int i = t; i < n_users; i += threads) {
      const User& u = users[static_cast<std::size_t>(i)];
      const std::string& room = rooms[static_cast<std::size_t>(i % n_rooms)];
      const nlohmann::json invite = {{"user_id", u.id}};
      if (c.call(http::verb::post, kApi + "/rooms/" + escape(room) + "/invite", &invite, alice.token).first != 200) ++failures;
      if (c.call(http::verb::post, kApi + "/rooms/" + escape(room) + "/join", &empty, u.token).first != 200) ++failures;
    }
  });
  const double s = seconds_since(start);
  std::printf("invite+join pairs: %d users into %d room(s), %d threads: %.2f s, %.0f pairs/s, failures %d\n", n_users,
              n_rooms, threads, s, n_users / s, failures.load());
  return failures ? 1 : 0;
}

// USERS new users join the public room ROOM: a room of that many members for the federation benchmark.
int fill(unsigned short port, const std::string& room, int n_users, int threads) {
  const auto users = register_many(port, "f" + std::to_string(std::time(nullptr)) + "_", n_users, threads);
  std::atomic<int> failures{0};
  const auto start = Clock::now();
  run_threads(threads, [&](int t) {
    Client c(port);
    const nlohmann::json empty = nlohmann::json::object();
    for (int i = t; i < n_users; i += threads) {
      if (c.call(http::verb::post, kApi + "/rooms/" + escape(room) + "/join", &empty, users[static_cast<std::size_t>(i)].token)
              .first != 200)
        ++failures;
    }
  });
  const double s = seconds_since(start);
  std::printf("fill: %d users joined %s, %d threads: %.2f s, %.0f joins/s, failures %d\n", n_users, room.c_str(), threads, s,
              n_users / s, failures.load());
  return failures ? 1 : 0;
}

int create(unsigned short port, int count, int threads) {
  const auto users = register_many(port, "c" + std::to_string(std::time(nullptr)) + "_", threads, threads);
  std::atomic<int> failures{0};
  const auto start = Clock::now();
  run_threads(threads, [&](int t) {
    Client c(port);
    const nlohmann::json body = {{"preset", "private_chat"}, {"name", "bench"}};
    for (int i = t; i < count; i += threads) {
      if (c.call(http::verb::post, kApi + "/createRoom", &body, users[static_cast<std::size_t>(t)].token).first != 200) ++failures;
    }
  });
  const double s = seconds_since(start);
  std::printf("createRoom: %d rooms, %d threads: %.2f s, %.0f rooms/s, failures %d\n", count, threads, s, count / s,
              failures.load());
  return failures ? 1 : 0;
}

int wake(unsigned short port, int samples) {
  Client setup(port);
  const std::string suffix = std::to_string(std::time(nullptr));
  const User alice = register_user(setup, "wa" + suffix);
  const User bob = register_user(setup, "wb" + suffix);
  const nlohmann::json room_body = {{"preset", "public_chat"}};
  const std::string room = create_room(setup, alice, room_body);
  const nlohmann::json empty = nlohmann::json::object();
  setup.call(http::verb::post, kApi + "/rooms/" + escape(room) + "/join", &empty, bob.token);
  Client syncer(port);
  std::string since = syncer.call(http::verb::get, kApi + "/sync", nullptr, bob.token).second["next_batch"];
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    std::atomic<bool> waiting{false};
    Clock::time_point sent;
    std::thread poller([&] {
      waiting = true;
      auto [status, res] = syncer.call(http::verb::get, kApi + "/sync?timeout=30000&since=" + since, nullptr, bob.token);
      ms.push_back(seconds_since(sent) * 1000);
      since = res["next_batch"];
    });
    while (!waiting) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // let the long-poll reach the server
    const nlohmann::json msg = {{"msgtype", "m.text"}, {"body", "ping"}};
    sent = Clock::now();
    setup.call(http::verb::put, kApi + "/rooms/" + escape(room) + "/send/m.room.message/w" + std::to_string(i), &msg,
               alice.token);
    poller.join();
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * ms.size()))]; };
  std::printf("sync wake (event sent -> waiting /sync returns), %d samples: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              samples, pct(0.5), pct(0.99), ms.back());
  return 0;
}

// p50, p99 and max of `ms` (sorted here), as "p50 X ms, p99 Y ms, max Z ms (N)".
std::string summary(std::vector<double> ms) {
  if (ms.empty()) return "no samples";
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * ms.size()))]; };
  char buf[160];
  std::snprintf(buf, sizeof buf, "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu samples)", pct(0.5), pct(0.99), ms.back(),
                ms.size());
  return buf;
}

// Another user's interactive reads, timed until `stop` (or `samples` of each when samples > 0): one thread
// reads the newest 20 events with /messages, one the room's name; each pauses 10 ms between requests.
struct ProbeTimes {
  std::vector<double> messages, state;
};
ProbeTimes probe(unsigned short port, const User& reader, const std::string& room, const std::atomic<bool>& stop,
                 int samples) {
  ProbeTimes out;
  std::atomic<int> failures{0};
  const std::string messages = kApi + "/rooms/" + escape(room) + "/messages?dir=b&limit=20";
  const std::string name = kApi + "/rooms/" + escape(room) + "/state/m.room.name";
  run_threads(2, [&](int t) {
    Client c(port);
    std::vector<double>& ms = t == 0 ? out.messages : out.state;
    const std::string& target = t == 0 ? messages : name;
    while (samples > 0 ? static_cast<int>(ms.size()) < samples : !stop.load()) {
      const auto start = Clock::now();
      if (c.call_text(http::verb::get, target, nullptr, reader.token).first != 200) ++failures;
      ms.push_back(seconds_since(start) * 1000);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  if (failures) throw std::runtime_error("probe: " + std::to_string(failures.load()) + " requests failed");
  return out;
}

// The thundering herd of issue 12, item 8: USERS clients in ROOMS rooms each take a sync token, EVENTS
// messages go into every room, then all USERS catch-up syncs arrive at once (each on its own connection)
// while another member's /messages and GET state/m.room.name are timed; the same reads with no herd first.
int herd(unsigned short port, int n_users, int n_rooms, int n_events) {
  constexpr int kThreads = 16;
  constexpr int kPerSourceAddress = 150;  // below the server's default max_connections_per_address (200)
  Client setup(port);
  const std::string suffix = std::to_string(std::time(nullptr));
  const User owner = register_user(setup, "ho" + suffix);
  const User reader = register_user(setup, "hr" + suffix);
  std::vector<std::string> rooms;
  const nlohmann::json room_body = {{"preset", "public_chat"}, {"name", "herd"}};
  const nlohmann::json empty = nlohmann::json::object();
  for (int r = 0; r < n_rooms; ++r) {
    rooms.push_back(create_room(setup, owner, room_body));
    setup.call(http::verb::post, kApi + "/rooms/" + escape(rooms.back()) + "/join", &empty, reader.token);
  }
  auto t = Clock::now();
  const auto users = register_many(port, "h" + suffix + "_", n_users, kThreads);
  std::atomic<int> failures{0};
  run_threads(kThreads, [&](int th) {
    Client c(port);
    for (int i = th; i < n_users; i += kThreads) {
      const std::string& room = rooms[static_cast<std::size_t>(i % n_rooms)];
      if (c.call(http::verb::post, kApi + "/rooms/" + escape(room) + "/join", &empty, users[static_cast<std::size_t>(i)].token)
              .first != 200) {
        ++failures;
      }
    }
  });
  std::printf("setup: %d users registered and joined to %d room(s) in %.1f s\n", n_users, n_rooms, seconds_since(t));

  // Each client's token: an initial sync that asks for little (one timeline event, lazily loaded members).
  t = Clock::now();
  std::vector<std::string> since(static_cast<std::size_t>(n_users));
  const std::string initial =
      kApi + "/sync?filter=" + escape(R"({"room":{"timeline":{"limit":1},"state":{"lazy_load_members":true}}})");
  run_threads(kThreads, [&](int th) {
    Client c(port);
    for (int i = th; i < n_users; i += kThreads) {
      auto [status, res] = c.call(http::verb::get, initial, nullptr, users[static_cast<std::size_t>(i)].token);
      if (status != 200 || !res.contains("next_batch")) throw std::runtime_error("initial sync: " + res.dump());
      since[static_cast<std::size_t>(i)] = res["next_batch"];
    }
  });
  std::printf("setup: %d initial syncs in %.1f s\n", n_users, seconds_since(t));

  t = Clock::now();
  run_threads(kThreads, [&](int th) {
    Client c(port);
    for (int i = th; i < n_events * n_rooms; i += kThreads) {
      const std::string& room = rooms[static_cast<std::size_t>(i % n_rooms)];
      const nlohmann::json msg = {{"msgtype", "m.text"}, {"body", "catch up " + std::to_string(i)}};
      if (c.call(http::verb::put, kApi + "/rooms/" + escape(room) + "/send/m.room.message/h" + std::to_string(i), &msg,
                 owner.token)
              .first != 200) {
        ++failures;
      }
    }
  });
  std::printf("setup: %d messages into each room in %.1f s\n", n_events, seconds_since(t));
  if (failures) throw std::runtime_error(std::to_string(failures.load()) + " setup requests failed");

  std::atomic<bool> stop{false};
  const ProbeTimes idle = probe(port, reader, rooms[0], stop, 200);
  std::printf("no herd:    /messages %s\n", summary(idle.messages).c_str());
  std::printf("no herd:    state/m.room.name %s\n", summary(idle.state).c_str());

  // The herd: every client connects (from 127.0.0.2 on, kPerSourceAddress to an address), then all send
  // their catch-up sync at once.
  std::vector<double> sync_ms(static_cast<std::size_t>(n_users));
  std::vector<std::size_t> bytes(static_cast<std::size_t>(n_users));
  std::atomic<int> connected{0}, limited{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < n_users; ++i) {
    clients.emplace_back([&, i] {
      const auto u = static_cast<std::size_t>(i);
      bool counted = false;
      try {
        Client c(port, "127.0.0." + std::to_string(2 + i / kPerSourceAddress));
        ++connected;
        counted = true;
        go.wait(false);
        const auto start = Clock::now();
        auto [status, text] = c.call_text(http::verb::get, kApi + "/sync?timeout=0&since=" + since[u], nullptr, users[u].token);
        sync_ms[u] = seconds_since(start) * 1000;
        bytes[u] = text.size();
        if (status != 200) ++failures;
        if (text.find("\"limited\":true") != std::string::npos) ++limited;
      } catch (const std::exception& e) {
        if (failures++ == 0) std::fprintf(stderr, "herd client %d: %s\n", i, e.what());
        if (!counted) ++connected;
      }
    });
  }
  while (connected.load() < n_users) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ProbeTimes busy;
  std::thread prober([&] { busy = probe(port, reader, rooms[0], stop, 0); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the probes are running
  const auto herd_start = Clock::now();
  go = true;
  go.notify_all();
  for (auto& th : clients) th.join();
  const double herd_s = seconds_since(herd_start);
  stop = true;
  prober.join();
  std::size_t total_bytes = 0;
  for (auto b : bytes) total_bytes += b;
  std::printf("herd:       %d catch-up syncs (%d events behind, %d limited timelines, %.1f KB each) in %.2f s, failures %d\n",
              n_users, n_events, limited.load(), total_bytes / 1024.0 / n_users, herd_s, failures.load());
  std::printf("herd:       per sync %s\n", summary(sync_ms).c_str());
  std::printf("under herd: /messages %s\n", summary(busy.messages).c_str());
  std::printf("under herd: state/m.room.name %s\n", summary(busy.state).c_str());
  return failures ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: load_driver PORT pairs USERS ROOMS THREADS | create COUNT THREADS | fill ROOM USERS THREADS | wake SAMPLES | herd USERS ROOMS "
                 "EVENTS\n";
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come, also into a pipe or file
  const auto port = static_cast<unsigned short>(std::stoi(argv[1]));
  const std::string mode = argv[2];
  try {
    if (mode == "pairs" && argc == 6) return pairs(port, std::stoi(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]));
    if (mode == "fill" && argc == 6) return fill(port, argv[3], std::stoi(argv[4]), std::stoi(argv[5]));
    if (mode == "create" && argc == 5) return create(port, std::stoi(argv[3]), std::stoi(argv[4]));
    if (mode == "wake" && argc == 4) return wake(port, std::stoi(argv[3]));
    if (mode == "herd" && argc == 6) return herd(port, std::stoi(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]));
  } catch (const std::exception& e) {
    std::cerr << "load_driver: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "bad arguments\n";
  return 2;
}
