/* A static probe for tests that chroot: prints its working directory,
 * user and group IDs and supplementary groups, one a line. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char dir[4096];
	gid_t groups[64];
	int n = getgroups(64, groups);

	printf("%s\n%u\n%u\n", getcwd(dir, sizeof(dir)) ? dir : "?", getuid(), getgid());
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? " " : "", groups[i]);
	printf("\n");
	return 0;
}
