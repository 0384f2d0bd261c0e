#include "proxy/dns_names.h"

#include <gtest/gtest.h>

#include "proxy/polling_test_support.h"

#include <atomic>
#include <map>
#include <mutex>

namespace weft::proxy {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using Outcome = DnsAnswer::Outcome;

// Answers set by the test, counted per name: the lookup thread's logic (refresh, keeping
// addresses on failure, forgetting names) without a DNS server whose records we could change.
struct ScriptedDns {
  std::mutex mutex;
  std::map<std::string, DnsAnswer> answers;
  std::map<std::string, int> asked;
  void set(const std::string& name, DnsAnswer answer) {
    std::lock_guard lock(mutex);
    answers[name] = std::move(answer);
  }
  int times(const std::string& name) {
    std::lock_guard lock(mutex);
    return asked[name];
  }
  DnsNames::Lookup lookup() {
    return [this](const std::string& name) {
      std::lock_guard lock(mutex);
      ++asked[name];
      auto found = answers.find(name);
      return found == answers.end() ? DnsAnswer{Outcome::kNoSuchName, {}, "not scripted"} : found->second;
    };
  }
};

DnsAnswer found(std::vector<std::string> addresses) { return {Outcome::kFound, std::move(addresses), ""}; }

TEST(DnsNames, TheSystemLookupReadsTheHostsFile) {
  // localhost is in every hosts file, so this asks no DNS server.
  DnsAnswer answer = DnsNames::systemLookup("localhost");
  ASSERT_EQ(answer.outcome, Outcome::kFound) << answer.error;
  EXPECT_NE(std::find(answer.addresses.begin(), answer.addresses.end(), "127.0.0.1"), answer.addresses.end());
}

TEST(DnsNames, TrackWaitsForTheFirstAnswerOfANewName) {
  ScriptedDns dns;
  dns.set("backend.example", found({"198.18.0.9", "198.18.0.7", "198.18.0.9"}));
  std::atomic<int> changes{0};
  DnsNames names([&] { ++changes; }, {.refresh = 1h, .firstLookupWait = 5s}, dns.lookup());
  auto resolved = names.track({"backend.example"});
  ASSERT_TRUE(resolved.contains("backend.example"));
  EXPECT_EQ(resolved["backend.example"].sorted, (std::vector<std::string>{"198.18.0.7", "198.18.0.9"})) << "sorted, once each";
  EXPECT_EQ(resolved["backend.example"].first, "198.18.0.9");
  names.track({"backend.example"});
  EXPECT_EQ(dns.times("backend.example"), 1) << "a known name is not looked up again before its refresh";
}

TEST(DnsNames, AChangedAnswerCallsBackAndAnUnchangedOneDoesNot) {
  ScriptedDns dns;
  dns.set("a.example", found({"198.18.0.1"}));
  std::atomic<int> changes{0};
  DnsNames names([&] { ++changes; }, {.refresh = 10ms, .firstLookupWait = 5s}, dns.lookup());
  names.track({"a.example"});
  ASSERT_TRUE(eventually([&] { return changes == 1; })) << "the first answer is a change";
  ASSERT_TRUE(eventually([&] { return dns.times("a.example") >= 3; })) << "looked up again every refresh";
  EXPECT_EQ(changes, 1) << "the same answer again is not";
  dns.set("a.example", found({"198.18.0.2", "198.18.0.1"}));
  ASSERT_TRUE(eventually([&] { return changes == 2; }));
  EXPECT_EQ(names.current()["a.example"].sorted, (std::vector<std::string>{"198.18.0.1", "198.18.0.2"}));
}

TEST(DnsNames, AFailedLookupKeepsTheAddressesAndAMissingNameDropsThem) {
  ScriptedDns dns;
  dns.set("a.example", found({"198.18.0.1"}));
  std::atomic<int> changes{0};
  DnsNames names([&] { ++changes; }, {.refresh = 10ms, .firstLookupWait = 5s}, dns.lookup());
  names.track({"a.example"});
  ASSERT_TRUE(eventually([&] { return changes == 1; }));
  dns.set("a.example", {Outcome::kFailed, {}, "Temporary failure in name resolution"});
  int before = dns.times("a.example");
  ASSERT_TRUE(eventually([&] { return dns.times("a.example") >= before + 2; }));
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(names.current()["a.example"].sorted, std::vector<std::string>{"198.18.0.1"}) << "kept through the failure";
  dns.set("a.example", {Outcome::kNoSuchName, {}, "Name or service not known"});
  ASSERT_TRUE(eventually([&] { return changes == 2; }));
  EXPECT_TRUE(names.current()["a.example"].sorted.empty());
  EXPECT_TRUE(names.current()["a.example"].first.empty());
}

TEST(DnsNames, NamesNoLongerTrackedAreForgottenAndNotLookedUp) {
  ScriptedDns dns;
  dns.set("a.example", found({"198.18.0.1"}));
  dns.set("b.example", found({"198.18.0.2"}));
  DnsNames names(nullptr, {.refresh = 10ms, .firstLookupWait = 5s}, dns.lookup());
  names.track({"a.example", "b.example"});
  EXPECT_TRUE(names.track({"b.example"}).contains("a.example")) << "track() only adds: the config in use may still need it";
  names.forgetExcept({"b.example"});
  EXPECT_FALSE(names.current().contains("a.example"));
  int asked = dns.times("a.example");
  int b = dns.times("b.example");
  ASSERT_TRUE(eventually([&] { return dns.times("b.example") >= b + 3; }));
  EXPECT_EQ(dns.times("a.example"), asked);
}

TEST(DnsNames, TheOrderOfAnAnswerIsNoChange) {
  ScriptedDns dns;
  dns.set("a.example", found({"198.18.0.1", "198.18.0.2"}));
  std::atomic<int> changes{0};
  DnsNames names([&] { ++changes; }, {.refresh = 10ms, .firstLookupWait = 5s}, dns.lookup());
  names.track({"a.example"});
  ASSERT_TRUE(eventually([&] { return changes == 1; }));
  dns.set("a.example", found({"198.18.0.2", "198.18.0.1"}));  // a resolver that shuffles
  int before = dns.times("a.example");
  ASSERT_TRUE(eventually([&] { return dns.times("a.example") >= before + 3; }));
  EXPECT_EQ(changes, 1) << "no rebuild for a shuffle";
  EXPECT_EQ(names.current()["a.example"].first, "198.18.0.1") << "the first stays while the answer holds it";
  dns.set("a.example", found({"198.18.0.2"}));
  ASSERT_TRUE(eventually([&] { return changes == 2; }));
  EXPECT_EQ(names.current()["a.example"].first, "198.18.0.2");
}

TEST(DnsNames, ASlowNameHoldsUpNeitherTheOthersNorTheShutdown) {
  // One name's lookup does not return until the test lets it (a resolver that does not
  // answer). Shared by pointer: that lookup's thread outlives the DnsNames, by design.
  struct Script {
    std::atomic<bool> release{false};
    std::atomic<int> fastLookups{0};
  };
  auto script = std::make_shared<Script>();
  {
    DnsNames names(nullptr, {.refresh = 10ms, .firstLookupWait = 100ms}, [script](const std::string& name) {
      if (name == "slow.example") {
        while (!script->release) std::this_thread::sleep_for(1ms);
        return found({"198.18.0.9"});
      }
      ++script->fastLookups;
      return found({"198.18.0.1"});
    });
    auto resolved = names.track({"slow.example", "fast.example"});
    EXPECT_TRUE(resolved.contains("fast.example")) << "looked up beside the slow one";
    EXPECT_FALSE(resolved.contains("slow.example"));
    EXPECT_TRUE(eventually([&] { return script->fastLookups >= 3; })) << "and kept fresh meanwhile";
  }  // the destructor returns with the slow lookup still under way
  script->release = true;
}

TEST(DnsNames, TrackGivesUpWaitingAfterItsBound) {
  // A lookup that takes longer than the wait: track() returns without the name, and the
  // answer arrives later as a change.
  std::atomic<bool> release{false};
  std::atomic<int> changes{0};
  DnsNames names([&] { ++changes; }, {.refresh = 1h, .firstLookupWait = 50ms}, [&](const std::string&) {
    while (!release) std::this_thread::sleep_for(1ms);
    return found({"198.18.0.5"});
  });
  bool hadIt = names.track({"slow.example"}).contains("slow.example");
  release = true;  // before any assertion, so the lookup thread can end
  EXPECT_FALSE(hadIt);
  ASSERT_TRUE(eventually([&] { return changes == 1; })) << "the late first answer is a change, so the config is rebuilt";
  EXPECT_EQ(names.current()["slow.example"].first, "198.18.0.5");
}

}  // namespace
}  // namespace weft::proxy
