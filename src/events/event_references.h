#pragma once
// A PDU's prev_events and auth_events as event IDs, both lists in one buffer. Every event the room cache
// holds keeps them, so one allocation per event instead of one per ID and per list (an ID is ~44 bytes;
// a std::string each cost ~1 KB per room across a room's state events). Read as string_views.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace herald::events {

// A view of one list of IDs inside an EventReferences buffer (valid while the event lives).
class EventIds {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    Iterator() = default;
    explicit Iterator(const char* at) : at_(at) {}
    std::string_view operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& other) const { return at_ == other.at_; }

   private:
    const char* at_ = nullptr;
  };

  EventIds() = default;
  EventIds(const char* begin, const char* end, std::size_t count) : begin_(begin), end_(end), count_(count) {}

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Iterator begin() const { return Iterator(begin_); }
  Iterator end() const { return Iterator(end_); }
  std::string_view front() const { return *begin(); }  // only when not empty
  bool contains(std::string_view id) const;
  std::vector<std::string> to_vector() const;

  friend bool operator==(const EventIds& a, const EventIds& b);
  friend bool operator==(const EventIds& a, const std::vector<std::string>& b);

 private:
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  std::size_t count_ = 0;
};

// Owns both lists of an event: its prev_events, then its auth_events.
class EventReferences {
 public:
  EventReferences() = default;
  EventReferences(const std::vector<std::string>& prev, const std::vector<std::string>& auth);
  // Copies must not view the other's buffer: views are made from this one's on each call.
  EventIds prev() const { return {buffer_.data(), buffer_.data() + auth_offset_, prev_count_}; }
  EventIds auth() const { return {buffer_.data() + auth_offset_, buffer_.data() + buffer_.size(), auth_count_}; }

 private:
  // Each ID as its length (one byte below 255; else 255 and four bytes) followed by its bytes.
  std::string buffer_;
  std::uint32_t auth_offset_ = 0;
  std::uint16_t prev_count_ = 0;
  std::uint16_t auth_count_ = 0;
};

}  // namespace herald::events
