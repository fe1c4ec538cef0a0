#pragma once
// Handlers and services return Task<T>; this header is all they need of Asio.
#include <utility>  // Asio's awaitable.hpp uses std::exchange
#include <boost/asio/awaitable.hpp>

namespace herald {
template <class T = void>
using Task = boost::asio::awaitable<T>;
}  // namespace herald
