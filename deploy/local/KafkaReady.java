import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Readiness probe for deploy/local/kafka.sh, run with the broker's own jars on the classpath.
 * A describeCluster proves the broker answers real metadata requests. Fetching offsets of a
 * (nonexistent) group forces the broker to create and load __consumer_offsets now, so a
 * client's first group join does not fail with COORDINATOR_NOT_AVAILABLE / LOAD_IN_PROGRESS.
 * Usage: java KafkaReady.java HOST:PORT TIMEOUT_MS
 */
public class KafkaReady {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    // The admin client rejects an API timeout below the request timeout (30 s by default).
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, args[1]);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, args[1]);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-sh-ready");
    try (Admin admin = Admin.create(props)) {
      String clusterId = admin.describeCluster().clusterId().get();
      admin.listConsumerGroupOffsets("kafka-sh-ready").partitionsToOffsetAndMetadata().get();
      System.out.println("ready: cluster " + clusterId);
    }
  }
}
