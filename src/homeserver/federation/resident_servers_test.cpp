#include "homeserver/federation/resident_servers.h"

#include <gtest/gtest.h>

#include "core/matrix_error.h"
#include "federation/federation_client.h"
#include "tests/support/run_task.h"

namespace herald::homeserver::resident_servers {
namespace {

// The error a join through servers that all fail like `refuse` reaches the client with.
MatrixError join_error(std::function<void(const std::string& server)> refuse) {
  const Attempt attempt{"join", "!r:there", "@u:here"};
  std::function<Task<std::string>(const std::string&)> through = [refuse](const std::string& server) -> Task<std::string> {
    refuse(server);
    co_return std::string();
  };
  const std::vector<std::string> servers{"a.example", "b.example"};
  try {
    testing::run_task(first_to_accept(attempt, servers, through));
  } catch (const MatrixError& e) {
    return e;
  }
  ADD_FAILURE() << "the join went through";
  return MatrixError(Errc::unknown, "");
}

TEST(ResidentServers, ARefusalReachesTheClientWithTheResidentsErrcode) {
  const MatrixError e = join_error([](const std::string&) {
    throw federation::FederationError("denied!", 400, "M_TEST_ERROR_CODE");
  });
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_EQ(e.errcode(), "M_TEST_ERROR_CODE");
  const MatrixError forbidden = join_error([](const std::string&) {
    throw federation::FederationError("no", 403, "M_FORBIDDEN");
  });
  EXPECT_EQ(forbidden.http_status(), 403);
  EXPECT_EQ(forbidden.errcode(), "M_FORBIDDEN");
}

TEST(ResidentServers, WhatTheResidentFoundInvalidIsABadGateway) {
  for (const std::string& code : {std::string("M_INVALID_PARAM"), std::string("M_UNRECOGNIZED"), std::string("")}) {
    const MatrixError e = join_error([code](const std::string&) { throw federation::FederationError("bad", 400, code); });
    EXPECT_EQ(e.http_status(), 502) << code;
    EXPECT_EQ(e.errcode(), "M_UNKNOWN") << code;
  }
}

TEST(ResidentServers, ARefusalOutweighsAnUnreachableServer) {
  const MatrixError e = join_error([](const std::string& server) {
    if (server == "a.example") throw federation::FederationError("connection refused", 0);
    throw federation::FederationError("no", 403, "M_FORBIDDEN");
  });
  EXPECT_EQ(e.http_status(), 403);
  const MatrixError down = join_error([](const std::string&) { throw federation::FederationError("connection refused", 0); });
  EXPECT_EQ(down.http_status(), 502);
}

}  // namespace
}  // namespace herald::homeserver::resident_servers
