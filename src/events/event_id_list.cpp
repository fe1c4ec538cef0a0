#include "events/event_id_list.h"

#include <cstring>

namespace herald::events {
namespace {
constexpr unsigned char kLongLength = 255;

// The length stored at `at`, and where the ID's bytes start.
std::pair<std::size_t, const char*> read_length(const char* at) {
  const auto first = static_cast<unsigned char>(*at);
  if (first != kLongLength) return {first, at + 1};
  std::uint32_t length = 0;
  std::memcpy(&length, at + 1, sizeof length);
  return {length, at + 1 + sizeof length};
}
}  // namespace

std::string_view EventIdList::Iterator::operator*() const {
  const auto [length, bytes] = read_length(at_);
  return {bytes, length};
}

EventIdList::Iterator& EventIdList::Iterator::operator++() {
  const auto [length, bytes] = read_length(at_);
  at_ = bytes + length;
  return *this;
}

EventIdList::EventIdList(const std::vector<std::string>& ids) : count_(static_cast<std::uint32_t>(ids.size())) {
  std::size_t total = 0;
  for (const auto& id : ids) total += id.size() + 1 + (id.size() >= kLongLength ? sizeof(std::uint32_t) : 0);
  buffer_.reserve(total);
  for (const auto& id : ids) {
    if (id.size() < kLongLength) {
      buffer_.push_back(static_cast<char>(id.size()));
    } else {
      const auto length = static_cast<std::uint32_t>(id.size());
      buffer_.push_back(static_cast<char>(kLongLength));
      buffer_.append(reinterpret_cast<const char*>(&length), sizeof length);
    }
    buffer_.append(id);
  }
}

bool EventIdList::contains(std::string_view id) const {
  for (const std::string_view e : *this)
    if (e == id) return true;
  return false;
}

std::vector<std::string> EventIdList::to_vector() const {
  std::vector<std::string> out;
  out.reserve(count_);
  for (const std::string_view e : *this) out.emplace_back(e);
  return out;
}

bool operator==(const EventIdList& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  auto it = b.begin();
  for (const std::string_view e : a)
    if (e != *it++) return false;
  return true;
}

}  // namespace herald::events
