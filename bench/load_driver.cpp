// Load driver for the rooms benchmarks (not a test): cheap synchronous HTTP/1.1 clients, one keep-alive
// connection per thread, so the driver takes little of the two cores it shares with the server.
//   load_driver PORT pairs  USERS ROOMS THREADS   invite+join pairs/s (USERS invitees spread over ROOMS)
//   load_driver PORT create COUNT THREADS         createRoom/s
//   load_driver PORT wake   SAMPLES               event sent -> waiting /sync returns, p50/p99
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
  explicit Client(unsigned short port) : socket_(io_) { socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  std::pair<int, nlohmann::json> call(http::verb verb, const std::string& target, const nlohmann::json* body,
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
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    auto parsed = nlohmann::json::parse(res.body(), nullptr, false);
    return {res.result_int(), parsed};
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

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: load_driver PORT pairs USERS ROOMS THREADS | create COUNT THREADS | wake SAMPLES\n";
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::stoi(argv[1]));
  const std::string mode = argv[2];
  try {
    if (mode == "pairs" && argc == 6) return pairs(port, std::stoi(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]));
    if (mode == "create" && argc == 5) return create(port, std::stoi(argv[3]), std::stoi(argv[4]));
    if (mode == "wake" && argc == 4) return wake(port, std::stoi(argv[3]));
  } catch (const std::exception& e) {
    std::cerr << "load_driver: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "bad arguments\n";
  return 2;
}
