#include "core/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace herald::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::shared_ptr<spdlog::logger> g_logger;

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::off: return spdlog::level::off;
  }
  return spdlog::level::info;
}

spdlog::logger& logger() {
  if (!g_logger) g_logger = spdlog::stderr_logger_mt("herald");
  return *g_logger;
}
}  // namespace

void init(Level level, bool async) {
  g_level = static_cast<int>(level);
  if (g_logger) return;
  if (async) {
    spdlog::init_thread_pool(8192, 1);
    g_logger = spdlog::stderr_logger_mt<spdlog::async_factory>("herald");
  } else {
    g_logger = spdlog::stderr_logger_mt("herald");
  }
  g_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  g_logger->set_level(to_spd(level));
  g_logger->flush_on(spdlog::level::warn);
}

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug") out = Level::debug;
  else if (text == "info") out = Level::info;
  else if (text == "warn" || text == "warning") out = Level::warn;
  else if (text == "error") out = Level::error;
  else if (text == "off") out = Level::off;
  else return false;
  return true;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view line) { logger().log(to_spd(level), "{}", line); }

void flush() {
  if (g_logger) g_logger->flush();
}

}  // namespace herald::log
