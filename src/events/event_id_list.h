#pragma once
// A PDU's prev_events or auth_events as event IDs in one buffer. Every event the room cache holds keeps
// both lists, so one allocation per list instead of one per ID (an ID is ~44 bytes: a std::string each
// cost ~1 KB per room across a room's state events). Read as string_views into the buffer.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace herald::events {

class EventIdList {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    Iterator() = default;
    Iterator(const char* at) : at_(at) {}
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

  EventIdList() = default;
  explicit EventIdList(const std::vector<std::string>& ids);

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Iterator begin() const { return Iterator(buffer_.data()); }
  Iterator end() const { return Iterator(buffer_.data() + buffer_.size()); }
  std::string_view front() const { return *begin(); }  // only when not empty
  bool contains(std::string_view id) const;
  std::vector<std::string> to_vector() const;

  friend bool operator==(const EventIdList& a, const EventIdList& b) { return a.buffer_ == b.buffer_; }
  friend bool operator==(const EventIdList& a, const std::vector<std::string>& b);

 private:
  // Each ID as its length (one byte below 255; else 255 and four bytes) followed by its bytes.
  std::string buffer_;
  std::uint32_t count_ = 0;
};

}  // namespace herald::events
