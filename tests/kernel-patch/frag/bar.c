/* sgxemu-fragment
 * splice: before gadget_second
 */

#define GADGET_MAX 4

/* New: between the two. */
static int gadget_between(void)
{
	return GADGET_MAX;
}
