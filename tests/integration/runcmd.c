/* runcmd: see runcmd.h. */
#include "runcmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t runcmd_start(const char *cmd)
{
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/bash", "bash", "-o", "pipefail", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int runcmd_wait(pid_t pid)
{
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int runcmd(const char *cmd)
{
    return runcmd_wait(runcmd_start(cmd));
}

double runcmd_value(const char *line, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = strstr(line, key); p; p = strstr(p + 1, key))
        if ((p == line || p[-1] == ' ') && p[n] == '=')
            return strtod(p + n + 1, NULL);
    return -1;
}

int runcmd_last_line(const char *path, const char *prefix, char *line, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[2048];
    int found = -1;
    while (fgets(buf, sizeof buf, f))
        if (strncmp(buf, prefix, strlen(prefix)) == 0) {
            snprintf(line, size, "%s", buf);
            found = 0;
        }
    fclose(f);
    return found;
}
