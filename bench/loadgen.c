/* Event generator for scripts/bench.sh's capacity and loss-against-load runs.
 *   loadgen udp ADDR PORT RATE SECS   datagrams of 16 bytes on one connected socket
 *   loadgen tcp ADDR PORT RATE SECS   short connections: connect, close
 *   loadgen sink tcp|udp PORT         accepts and closes / binds and never reads (runs until killed)
 * RATE 0 = as fast as the core allows. Paced in 1 ms slices. Prints "offered N seconds S":
 * the events the kernel saw (successful sends or connections), the ground truth the agent's
 * records are compared with. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sink(const char *proto, int port)
{
    int udp = strcmp(proto, "udp") == 0;
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || (!udp && listen(fd, 4096))) {
        perror("loadgen sink");
        return 1;
    }
    for (;;) {
        if (udp) {
            pause();
            continue;
        }
        int c = accept(fd, NULL, NULL);
        if (c >= 0)
            close(c);
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "sink") == 0)
        return sink(argv[2], atoi(argv[3]));
    if (argc != 6) {
        fprintf(stderr, "usage: loadgen udp|tcp ADDR PORT RATE SECS | loadgen sink tcp|udp PORT\n");
        return 2;
    }
    int udp = strcmp(argv[1], "udp") == 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
        fprintf(stderr, "loadgen: bad address %s\n", argv[2]);
        return 2;
    }
    double rate = atof(argv[4]), secs = atof(argv[5]);
    int ufd = -1;
    if (udp) {
        ufd = socket(AF_INET, SOCK_DGRAM, 0);
        if (connect(ufd, (struct sockaddr *)&a, sizeof(a))) {
            perror("loadgen connect");
            return 1;
        }
    }
    char payload[16] = "netobs-loadgen";
    unsigned long offered = 0, failed = 0;
    double start = now(), end = start + secs, t;
    while ((t = now()) < end) {
        /* Due by now at RATE; catch up one 1 ms slice at a time. */
        unsigned long due = rate > 0 ? (unsigned long)((t - start) * rate) + 1 : offered + 1000;
        if (offered >= due) {
            struct timespec nap = {0, 200000};
            nanosleep(&nap, NULL);
            continue;
        }
        for (unsigned long n = due - offered; n > 0; n--) {
            if (udp) {
                if (send(ufd, payload, sizeof(payload), 0) == sizeof(payload))
                    offered++;
                else
                    failed++;
                continue;
            }
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
                offered++;
            else
                failed++;
            close(fd);
            if (failed > 1000 && failed > offered) {
                fprintf(stderr, "loadgen: connections fail: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    printf("offered %lu failed %lu seconds %.3f\n", offered, failed, now() - start);
    return 0;
}
