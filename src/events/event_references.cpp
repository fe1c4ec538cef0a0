#include "events/event_references.h"

#include <algorithm>
#include <cstdint>
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

// A PDU lists a handful of references (the checks on receipt cap them far lower, and 65,535 IDs do not
// fit in a 64 KiB PDU); the counts are 16 bits.
std::size_t count_of(const std::vector<std::string>& ids) { return std::min<std::size_t>(ids.size(), UINT16_MAX); }

std::size_t encoded_size(const std::vector<std::string>& ids) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count_of(ids); ++i) {
    const std::string& id = ids[i];
    total += id.size() + 1 + (id.size() >= kLongLength ? sizeof(std::uint32_t) : 0);
  }
  return total;
}

void encode(const std::vector<std::string>& ids, std::string& out) {
  for (std::size_t i = 0; i < count_of(ids); ++i) {
    const std::string& id = ids[i];
    if (id.size() < kLongLength) {
      out.push_back(static_cast<char>(id.size()));
    } else {
      const auto length = static_cast<std::uint32_t>(id.size());
      out.push_back(static_cast<char>(kLongLength));
      out.append(reinterpret_cast<const char*>(&length), sizeof length);
    }
    out.append(id);
  }
}
}  // namespace

std::string_view EventIds::Iterator::operator*() const {
  const auto [length, bytes] = read_length(at_);
  return {bytes, length};
}

EventIds::Iterator& EventIds::Iterator::operator++() {
  const auto [length, bytes] = read_length(at_);
  at_ = bytes + length;
  return *this;
}

bool EventIds::contains(std::string_view id) const {
  return std::find(begin(), end(), id) != end();
}

std::vector<std::string> EventIds::to_vector() const {
  std::vector<std::string> out;
  out.reserve(count_);
  for (const std::string_view e : *this) out.emplace_back(e);
  return out;
}

bool operator==(const EventIds& a, const EventIds& b) {
  return a.count_ == b.count_ && std::string_view(a.begin_, a.end_ - a.begin_) == std::string_view(b.begin_, b.end_ - b.begin_);
}

bool operator==(const EventIds& a, const std::vector<std::string>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

EventReferences::EventReferences(const std::vector<std::string>& prev, const std::vector<std::string>& auth) {
  buffer_.reserve(encoded_size(prev) + encoded_size(auth));
  encode(prev, buffer_);
  auth_offset_ = static_cast<std::uint32_t>(buffer_.size());
  encode(auth, buffer_);
  prev_count_ = static_cast<std::uint16_t>(count_of(prev));
  auth_count_ = static_cast<std::uint16_t>(count_of(auth));
}

}  // namespace herald::events
