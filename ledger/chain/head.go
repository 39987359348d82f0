package chain

import "context"

// BlockNumber returns the number of the node's latest block.
func (c *Client) BlockNumber(ctx context.Context) (uint64, error) {
	return c.backend.BlockNumber(ctx)
}
