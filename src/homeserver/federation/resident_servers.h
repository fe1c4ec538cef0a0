#pragma once
// Asking a room's resident servers in turn, for a membership this server cannot make alone (make_join +
// send_join, make_knock + send_knock; federation.md §7): the servers to try, and one attempt per server
// until one succeeds. A 4xx refusal is kept and passed on when no other server says yes (an
// M_INCOMPATIBLE_ROOM_VERSION at once: the room's version is the same everywhere); no answer, a 5xx or an
// unusable answer (std::runtime_error) are 502, or 504 on a timeout. A MatrixError from an attempt (this
// server's own refusal) ends the tries.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/task.h"

namespace herald::homeserver::resident_servers {

// `named` in order, each once, without `own` or empty names, at most `max`.
std::vector<std::string> to_try(const std::vector<std::string>& named, const std::string& own, std::size_t max = 8);

// What is being done, for errors and logs ("join", "knock"), and for whom.
struct Attempt {
  std::string what;
  std::string room_id;
  std::string user_id;
};

// Runs `through` for each server until one returns; `through` must outlive the await (a caller's local).
// 404 M_NOT_FOUND when `servers` is empty.
Task<std::string> first_to_accept(const Attempt& attempt, const std::vector<std::string>& servers,
                                  std::function<Task<std::string>(const std::string& server)>& through);

}  // namespace herald::homeserver::resident_servers
