/* Loads and attaches the programs of a BPF object whose section starts with PREFIX (all when
 * none is given), then waits for SIGINT/SIGTERM. Benchmark helper: runs the baseline programs
 * of one hook tier beside the agent. */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: %s OBJECT.bpf.o [SECTION_PREFIX]\n", argv[0]); return 2; }
    const char *prefix = argc == 3 ? argv[2] : "";
    struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
    if (!obj) { fprintf(stderr, "opening %s failed\n", argv[1]); return 1; }
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj)
        bpf_program__set_autoload(prog, strncmp(bpf_program__section_name(prog), prefix, strlen(prefix)) == 0);
    if (bpf_object__load(obj)) { fprintf(stderr, "loading %s failed\n", argv[1]); return 1; }
    bpf_object__for_each_program(prog, obj) {
        if (!bpf_program__autoload(prog)) continue;
        if (!bpf_program__attach(prog)) { fprintf(stderr, "attaching %s failed\n", bpf_program__name(prog)); return 1; }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("attached\n");
    fflush(stdout);
    while (!stop) pause();
    bpf_object__close(obj);
    return 0;
}
