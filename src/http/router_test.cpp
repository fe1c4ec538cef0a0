#include "http/router.h"

#include <gtest/gtest.h>

#include "core/matrix_error.h"

namespace herald::http {
namespace {
Handler named(int* hit, int id) {
  return [hit, id](Request) -> Task<Response> {
    *hit = id;
    co_return Response::empty(200);
  };
}
}  // namespace

TEST(Router, MatchesTemplatesAndDecodesSegments) {
  Router router;
  int hit = 0;
  router.add(Method::post, "/_matrix/client/v3/rooms/{roomId}/invite", named(&hit, 1));
  router.add(Method::get, "/_matrix/client/v3/rooms/{roomId}/state/{type}/{stateKey}", named(&hit, 2));
  Request req;
  req.method = Method::post;
  req.path = "/_matrix/client/v3/rooms/%21abc%3Alocalhost/invite";
  auto m = router.match(req);
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(req.path_param("roomId"), "!abc:localhost");
  EXPECT_EQ(req.route, "/_matrix/client/v3/rooms/{roomId}/invite");

  Request state;
  state.method = Method::get;
  state.path = "/_matrix/client/v3/rooms/!r:hs/state/m.room.name/";
  ASSERT_TRUE(router.match(state).handler);
  EXPECT_EQ(state.path_param("stateKey"), "");
}

TEST(Router, WrongMethodIsDistinguishedFromUnknownPath) {
  Router router;
  int hit = 0;
  router.add(Method::get, "/a/b", named(&hit, 1));
  Request req;
  req.method = Method::post;
  req.path = "/a/b";
  auto m = router.match(req);
  EXPECT_FALSE(m.handler);
  EXPECT_TRUE(m.path_known);
  req.path = "/a/c";
  m = router.match(req);
  EXPECT_FALSE(m.handler);
  EXPECT_FALSE(m.path_known);
}

TEST(Router, ARouteMayTakeALargerBody) {
  Router router;
  int hit = 0;
  router.add(Method::put, "/send/{txnId}", named(&hit, 1), 10'000'000);
  router.add(Method::put, "/other/{x}", named(&hit, 2));
  EXPECT_EQ(router.body_limit_for(Method::put, "/send/abc"), 10'000'000u);
  EXPECT_EQ(router.body_limit_for(Method::put, "/send/a%20b"), 10'000'000u);
  EXPECT_FALSE(router.body_limit_for(Method::post, "/send/abc")) << "another method: the server's limit";
  EXPECT_FALSE(router.body_limit_for(Method::put, "/other/abc"));
  EXPECT_FALSE(router.body_limit_for(Method::put, "/send/abc/more"));
}

TEST(Router, MalformedEscapeIsInvalidParam) {
  Router router;
  int hit = 0;
  router.add(Method::get, "/x/{id}", named(&hit, 1));
  Request req;
  req.path = "/x/%zz";
  try {
    router.match(req);
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.errc(), Errc::invalid_param);
  }
}

TEST(Request, QueryParsing) {
  auto q = parse_query("a=1&b=x%20y&via=s1&via=s2&flag&plus=a+b");
  Request req;
  req.query = q;
  EXPECT_EQ(req.query_param("b"), "x y");
  EXPECT_EQ(req.query_params("via"), (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(req.query_param("flag"), "");
  EXPECT_EQ(req.query_param("plus"), "a b");
  EXPECT_FALSE(req.query_param("none"));
}

}  // namespace herald::http
