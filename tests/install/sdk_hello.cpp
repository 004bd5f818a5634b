// sdk_hello.cpp: the installed SDK's header compiled as C++ (-Wall -Wextra -Werror) and
// linked through pkg-config, built out of tree by install_test.sh. It checks the run-time
// version, the error table and a client's life without a coordinator, from C++.
#include <cstdio>
#include <cstring>
#include <memory>

#include <p2c2r.h>

namespace
{
struct client_deleter {
    void operator()(p2c2r_client *c) const
    {
        p2c2r_client_destroy(&c);
    }
};
using client_ptr = std::unique_ptr<p2c2r_client, client_deleter>;
} // namespace

int main()
{
    if (!P2C2R_VERSION_OK()) {
        std::fprintf(stderr, "sdk_hello++: built for %d, running %s\n", P2C2R_VERSION,
                     p2c2r_version_string());
        return 1;
    }
    if (std::strcmp(p2c2r_errname(P2C2R_E_BUSY), "P2C2R_E_BUSY") != 0 ||
        p2c2r_strerror(P2C2R_OK) == nullptr) {
        std::fprintf(stderr, "sdk_hello++: error table\n");
        return 1;
    }
    p2c2r_client_config config{};
    config.coordinator = "tcp://127.0.0.1:1";
    config.max_in_flight = 4;
    int err = 0;
    client_ptr client(p2c2r_client_new(&config, &err));
    if (!client) {
        std::fprintf(stderr, "sdk_hello++: p2c2r_client_new: %s\n", p2c2r_strerror(err));
        return 1;
    }
    p2c2r_result *r = nullptr;
    if (p2c2r_poll(client.get(), 0, &r) != P2C2R_E_TIMEOUT || r != nullptr ||
        p2c2r_client_pending(client.get()) != 0) {
        std::fprintf(stderr, "sdk_hello++: an idle client had a result\n");
        return 1;
    }
    p2c2r_client_config bad{};
    if (p2c2r_client_new(&bad, &err) != nullptr || err != P2C2R_E_INVAL) {
        std::fprintf(stderr, "sdk_hello++: a config without a coordinator was taken\n");
        return 1;
    }
    std::printf("sdk_hello++ ok %s\n", p2c2r_version_string());
    return 0;
}
